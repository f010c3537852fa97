"""The install manifests shipped under deploy/ validate, and their embedded config loads."""

from __future__ import annotations

from pathlib import Path

import yaml

from previewd.settings import parse_config
from tests import schemas

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"


def test_kubernetes_manifests_validate() -> None:
    docs = schemas.validate_file(DEPLOY / "previewd.yaml")
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap", "Secret"}


def test_embedded_config_is_valid() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "previewd.yaml").read_text()))
    (config_map,) = [d for d in docs if d["kind"] == "ConfigMap"]
    config = parse_config(yaml.safe_load(config_map["data"]["previewd.yaml"]),
                          {"PREVIEWD_WEBHOOK_SECRET": "x", "PREVIEWD_GITOPS_TOKEN": "y"})
    assert config.server.listen == "0.0.0.0:8080"


def test_release_plugin_sidecar_patch_fits_the_install_steps() -> None:
    """The repo-server patch is a valid container spec and mounts what the README creates."""
    cmp = DEPLOY.parent / "release-cmp"
    patch = yaml.safe_load((cmp / "repo-server-sidecar.yaml").read_text())
    assert (patch["kind"], patch["metadata"]["name"]) == ("Deployment", "argocd-repo-server")
    pod = patch["spec"]["template"]["spec"]
    # Complete the patch into a whole Deployment so the real schema checks every field it sets.
    whole = {**patch, "spec": {"selector": {"matchLabels": {"app": "x"}},
                               "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod}}}
    schemas.validate(whole)
    (sidecar,) = pod["containers"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999  # Argo CD's CMP contract
    config_map = next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)
    assert config_map in (cmp / "README.md").read_text()
    plugin = yaml.safe_load((cmp / "plugin.yaml").read_text())
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert "release" in " ".join(plugin["spec"]["generate"]["command"] + plugin["spec"]["generate"].get("args", []))
