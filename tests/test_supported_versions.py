"""docs/supported-versions.md says what the code assumes: the minimums in core/versions.py, the
pinned Kustomize, the Kubernetes API versions the manifests use; bootstrap refuses an Argo CD
too old for the previews project."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from previewd.adapters import kustomize
from previewd.core import versions
from previewd.core.render.bootstrap import bootstrap_files
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.errors import PermanentError
from previewd.settings import parse_config
from tests import schemas
from tests.support import base_config, write_config

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "supported-versions.md"
SHA = "0123456789abcdef0123456789abcdef01234567"


def table() -> dict[str, str]:
    """System -> the 'supported' cell of the docs table."""
    rows = {}
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("system", "---"):
            rows[cells[0]] = cells[1]
    return rows


def kubectl_pin() -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in dependencies if d.startswith(kustomize.KUBECTL_DISTRIBUTION)]
    return str(pin.split(";")[0].strip())


def test_the_table_lists_exactly_the_code_minimums() -> None:
    rows = table()
    assert set(rows) == {m.system for m in versions.MINIMUMS} | {"Kustomize"}
    for minimum in versions.MINIMUMS:
        assert rows[minimum.system] == f"{minimum.text} or later"


def test_the_table_names_the_pinned_kustomize() -> None:
    pin = kubectl_pin()
    assert "==" in pin  # one version everywhere, not a range
    assert table()["Kustomize"].startswith(f"{kustomize.KUSTOMIZE_VERSION} ")
    assert f"`{pin}`" in TABLE.read_text()


def rendered_core_manifests() -> list[dict[str, Any]]:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    data["argocd"] = {**data["argocd"], "notifications_token": "t"}
    data["releases"] = {"gitops": {"url": "/srv/state.git"}}
    config = parse_config(data, {})
    repo = config.repository("acme/shop")
    assert repo is not None
    bodies = [*bootstrap_files(config).values(),
              *render_preview(config, repo, PreviewInput("acme/shop", 1, SHA)).values()]
    docs = [d for body in bodies for d in yaml.safe_load_all(body) if d]
    # Kubernetes' own kinds; Argo CD and Gateway API kinds come from their CRDs.
    return [d for d in docs if schemas.crd_schema(*_group_kind_version(d)) is None]


def _group_kind_version(doc: dict[str, Any]) -> tuple[str, str, str]:
    group, _, version = doc["apiVersion"].rpartition("/")
    return group, doc["kind"], version


def k8s(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def test_every_kubernetes_manifest_exists_in_the_minimum_kubernetes() -> None:
    docs = rendered_core_manifests()
    assert {"ValidatingAdmissionPolicy", "NetworkPolicy", "Namespace"} <= {d["kind"] for d in docs}
    for doc in docs:
        kubernetes_validate.validate(doc, k8s(versions.KUBERNETES.version), strict=True)


def test_the_kubernetes_minimum_is_tight() -> None:
    """One minor version older lacks admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy."""
    major, minor, _ = versions.KUBERNETES.version
    (policy, *_) = [d for d in rendered_core_manifests() if d["kind"] == "ValidatingAdmissionPolicy"]
    with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
        kubernetes_validate.validate(policy, f"{major}.{minor - 1}.0", strict=True)


@pytest.mark.parametrize(("version", "refused"), [
    ("3.3.0", False), ("v3.3.1+abc1234", False), ("3.4", False), ("4.0.0-rc1", False),
    ("3.2.9", True), ("v2.14.11", True), ("3.2", True),
])
def test_bootstrap_refuses_an_argocd_below_the_minimum(version: str, refused: bool) -> None:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    config = parse_config(data, {})
    if refused:
        with pytest.raises(PermanentError, match=r"Argo CD .* is older than 3\.3\.0"):
            bootstrap_files(config, version)
    else:
        assert "appproject-previews.yaml" in bootstrap_files(config, version)


def test_bootstrap_cli_says_so_in_one_line(tmp_path: Path) -> None:
    data = base_config(tmp_path, tmp_path / "gitops.git")
    data["github"] = {"webhook_secret": "x"}
    config = write_config(tmp_path, data)
    for version, expected in (("3.2.4", "clusterResourceWhitelist[].name"), ("three", "not a version")):
        proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "bootstrap", "--config", str(config),
                               "--out", str(tmp_path / "out"), "--argocd-version", version],
                              capture_output=True, text=True)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr
        assert not (tmp_path / "out").exists()
    proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "bootstrap", "--config", str(config),
                           "--out", str(tmp_path / "out"), "--argocd-version", "3.3.0"], capture_output=True, text=True)
    assert proc.returncode == 0 and (tmp_path / "out" / "appproject-previews.yaml").exists()


def test_version_parsing() -> None:
    assert versions.parse_version("v1.30") == (1, 30, 0)
    for bad in ("", "3", "latest", "3.x"):
        with pytest.raises(ValueError):
            versions.parse_version(bad)
    assert re.search(r"3\.3\.0", versions.below_minimum(versions.ARGOCD, "3.2.0") or "")
