"""The platform template and the Argo CD plugin: schema-valid, deterministic, pinned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from previewd.errors import PermanentError
from previewd.releases.contract import parse_app_env, parse_release
from previewd.releases.render import render, render_bytes
from tests import schemas
from tests.release_support import SEED_RELEASE, release_text, seed_app_env, write_env

DIGEST = "sha256:" + "b" * 64
DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "release-cmp"


def pair(**changes: object):  # type: ignore[no-untyped-def]
    doc = seed_app_env()
    doc["spec"].update(changes)
    return parse_app_env(doc), parse_release(yaml.safe_load(release_text(doc, "1.0", DIGEST)))


def test_renders_valid_pinned_manifests() -> None:
    env, release = pair()
    docs = schemas.validate_bytes(render_bytes(env, release))
    assert [d["kind"] for d in docs] == ["Deployment", "Service", "Ingress"]
    deployment, service, ingress = docs
    assert {d["metadata"]["namespace"] for d in docs} == {"app-team-a-app1-dev"}
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"harbor.example.tld/team-a/app1/dev@{DIGEST}"
    assert deployment["spec"]["replicas"] == 2
    assert container["resources"] == {"requests": {"cpu": "200m", "memory": "256Mi"},
                                      "limits": {"cpu": "1000m", "memory": "512Mi"}}
    assert container["env"] == [{"name": "LOG_LEVEL", "value": "info"},
                                {"name": "FEATURE_X_ENABLED", "value": "true"}]
    assert container["envFrom"] == [{"secretRef": {"name": "postgres-default"}},
                                    {"secretRef": {"name": "observability-basic"}}]
    assert container["ports"][0]["containerPort"] == 8080
    assert service["spec"]["ports"][0]["port"] == 8080
    assert ingress["spec"]["rules"][0]["host"] == "app1-dev.example.tld"
    assert ingress["spec"]["tls"] == [{"hosts": ["app1-dev.example.tld"], "secretName": "app1-tls"}]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= \
        deployment["spec"]["template"]["metadata"]["labels"].items()


def test_is_deterministic() -> None:
    assert render_bytes(*pair()) == render_bytes(*pair())


def test_ingress_only_when_enabled_and_grpc_port_names() -> None:
    env, release = pair(ingress={"enabled": False},
                        runtime={**seed_app_env()["spec"]["runtime"],
                                 "service": {"port": 9000, "protocol": "grpc"}})
    docs = schemas.validate_bytes(render_bytes(env, release))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    assert docs[1]["spec"]["ports"][0]["appProtocol"] == "grpc"


def test_refuses_unpinned_or_foreign_releases() -> None:
    env = parse_app_env(seed_app_env())
    with pytest.raises(PermanentError, match=r"spec\.image\.digest"):
        render(env, parse_release(yaml.safe_load(SEED_RELEASE.read_text())))
    other = seed_app_env()
    other["spec"]["registry"]["repository"] = "harbor.example.tld/team-b/app1/dev"
    other["metadata"]["tenant"] = "team-b"
    release = parse_release(yaml.safe_load(release_text(other, "1.0", DIGEST)))
    with pytest.raises(PermanentError, match=r"metadata\.tenant.*spec\.image\.repository"):
        render(env, release)


def test_plugin_runs_render_in_the_env_directory(tmp_path: Path) -> None:
    """What argocd-cmp-server does: run the plugin's generate command in the app directory."""
    plugin = yaml.safe_load((DEPLOY / "plugin.yaml").read_text())
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["spec"]["discover"]["fileName"] == "./app-env.yaml"
    command = plugin["spec"]["generate"]["command"]
    assert command[0] == "previewd"
    doc = seed_app_env()
    write_env(tmp_path, "env", doc, release_text(doc, "1.0", DIGEST))
    out = subprocess.run([sys.executable, "-m", "previewd.cli.main", *command[1:]],
                         cwd=tmp_path / "env", capture_output=True, check=True).stdout
    assert out == render_bytes(*pair())


def test_plugin_reports_the_bad_field(tmp_path: Path) -> None:
    doc = seed_app_env()
    doc["spec"]["target"]["namespace"] = "platform-x"
    write_env(tmp_path, "env", doc, release_text(doc, "1.0", DIGEST))
    proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "release", "render",
                           str(tmp_path / "env")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "spec.target.namespace" in proc.stderr and proc.stdout == ""


def test_applicationset_example_is_schema_valid() -> None:
    docs = schemas.validate_file(DEPLOY / "applicationset.yaml")
    project, appset = docs
    assert project["spec"]["destinations"][0]["namespace"] == "app-*"
    assert appset["spec"]["template"]["spec"]["source"]["plugin"]["name"] == (
        f"{yaml.safe_load((DEPLOY / 'plugin.yaml').read_text())['metadata']['name']}-v1")
