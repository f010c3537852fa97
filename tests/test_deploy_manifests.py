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
