"""``previewd lint``: each contract rule, on bundles built by the real kustomize."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from previewd.jobs.lint_bundle import copy_bundle, lint_bundle
from tests.support import DEPLOYMENT_YAML as DEPLOYMENT

CLEAN = DEPLOYMENT.replace("IMAGE", "ghcr.io/acme/shop:1.2.3")


def bundle(tmp_path: Path, files: dict[str, str], resources: list[str] | None = None) -> Path:
    path = tmp_path / "deploy" / "preview"
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    listed = resources if resources is not None else list(files)
    (path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"  - {r}\n" for r in listed)
    )
    return path


def rules(path: Path) -> list[tuple[str, str, str]]:
    return [(f.file, f.resource, f.rule) for f in lint_bundle(path)]


def test_clean_bundle_passes(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"web.yaml": DEPLOYMENT.replace("IMAGE", "ghcr.io/acme/shop:1.2.3")})
    assert rules(path) == []
    proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "lint", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hard_coded_namespace(tmp_path: Path) -> None:
    text = DEPLOYMENT.replace("IMAGE", "ghcr.io/acme/shop:1").replace(
        "  name: web\n", "  name: web\n  namespace: production\n", 1)
    assert rules(bundle(tmp_path, {"web.yaml": text})) == [("web.yaml", "Deployment/web", "no-namespace")]


@pytest.mark.parametrize("kind, api", [
    ("ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("Namespace", "v1"),
    ("ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1"),
])
def test_cluster_scoped_kinds(tmp_path: Path, kind: str, api: str) -> None:
    text = f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: infra\n"
    assert rules(bundle(tmp_path, {"infra.yaml": text})) == [
        ("infra.yaml", f"{kind}/infra", "no-cluster-scoped")]


def test_crd_is_cluster_scoped(tmp_path: Path) -> None:
    text = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n"
            "  names: {kind: Widget, plural: widgets}\n"
            "  scope: Namespaced\n  versions: []\n")
    assert [r[2] for r in rules(bundle(tmp_path, {"crd.yaml": text}))] == ["no-cluster-scoped"]


@pytest.mark.parametrize("image, message", [
    ("ghcr.io/acme/shop", "no tag or digest"),
    ("ghcr.io/acme/shop:latest", ":latest"),
    ("localhost:5000/shop", "no tag or digest"),
])
def test_unpinned_images(tmp_path: Path, image: str, message: str) -> None:
    findings = lint_bundle(bundle(tmp_path, {"web.yaml": DEPLOYMENT.replace("IMAGE", image)}))
    assert [(f.rule, message in f.message) for f in findings] == [("pinned-images", True)]


def test_digest_pinned_image_is_fine(tmp_path: Path) -> None:
    image = "ghcr.io/acme/shop@sha256:" + "a" * 64
    assert rules(bundle(tmp_path, {"web.yaml": DEPLOYMENT.replace("IMAGE", image)})) == []


def test_baseline_kinds_may_not_be_overridden(tmp_path: Path) -> None:
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-all\n"
            "spec:\n  podSelector: {}\n  ingress: [{}]\n")
    assert rules(bundle(tmp_path, {"np.yaml": text})) == [
        ("np.yaml", "NetworkPolicy/allow-all", "no-baseline-override")]


def test_missing_kustomization(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert rules(tmp_path / "empty") == [("kustomization.yaml", "-", "kustomization")]
    proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "lint", str(tmp_path / "empty")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "[kustomization]" in proc.stdout


def test_kustomization_that_does_not_build(tmp_path: Path) -> None:
    path = bundle(tmp_path, {}, resources=["missing.yaml"])
    assert [r[2] for r in rules(path)] == ["builds"]


def test_remote_generators_and_patches_are_refused(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"web.yaml": DEPLOYMENT.replace("IMAGE", "ghcr.io/acme/shop:1")})
    with (path / "kustomization.yaml").open("a") as f:
        f.write("generators:\n  - https://example.com/gen.yaml\npatches:\n  - path: https://example.com/p.yaml\n")
    assert [r[2] for r in rules(path)] == ["no-remote-resources", "no-remote-resources"]


def test_only_what_the_build_outputs_is_parsed_with_the_c_loader(tmp_path: Path, monkeypatch: Any) -> None:
    """An unreferenced 5 MB YAML file stalled the worker for 53 s: previewd parsed every file of
    the bundle to name findings. Now only Kustomize's output is parsed, with the C loader."""
    big = "items:\n" + "  - {name: x, values: [1, 2, 3]}\n" * 120_000
    path = bundle(tmp_path, {"web.yaml": DEPLOYMENT.replace("IMAGE", "ghcr.io/acme/shop:latest"),
                             "unused.yaml": big}, resources=["web.yaml"])
    parsed: list[tuple[int, object]] = []

    def spy(real: Any) -> Any:
        def load(stream: Any, Loader: Any = None) -> Any:
            parsed.append((len(stream), Loader))
            return real(stream, Loader) if Loader else real(stream)
        return load

    for name in ("load", "load_all", "safe_load", "safe_load_all"):
        monkeypatch.setattr(yaml, name, spy(getattr(yaml, name)))
    assert rules(path) == [("web.yaml", "Deployment/web", "pinned-images")]  # the file is still named
    assert parsed and max(size for size, _ in parsed) < len(big) // 100
    assert {loader for _, loader in parsed} == {yaml.CSafeLoader}


def test_lint_builds_a_copy_bounded_like_an_extracted_tarball(tmp_path: Path, monkeypatch: Any) -> None:
    from previewd.adapters.scm.tarball import MAX_FILE_BYTES
    from previewd.jobs import lint_bundle as module

    big = bundle(tmp_path / "big", {"web.yaml": CLEAN, "data.txt": "x" * (MAX_FILE_BYTES + 1)}, ["web.yaml"])
    assert rules(big) == [("-", "-", "bundle-size")]
    many = bundle(tmp_path / "many", {"web.yaml": CLEAN, "a.txt": "", "b.txt": ""}, ["web.yaml"])
    assert rules(many) == []
    monkeypatch.setattr(module, "MAX_TREE_FILES", 3)
    assert rules(many) == [("-", "-", "bundle-size")]


def test_lint_copies_no_symlink_that_leaves_the_bundle(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: secret\n  namespace: host\n")
    path = bundle(tmp_path, {"web.yaml": CLEAN}, ["web.yaml", "linked.yaml"])
    (path / "linked.yaml").symlink_to(outside)
    copy_bundle(path, tmp_path / "copy")
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["kustomization.yaml", "web.yaml"]
    assert rules(path) == [("kustomization.yaml", "-", "builds")]  # not copied: Kustomize cannot find it
    (path / "linked.yaml").unlink()
    (path / "linked.yaml").symlink_to("web.yaml")  # inside the bundle: copied as a link
    copy_bundle(path, tmp_path / "copy2")
    assert (tmp_path / "copy2" / "linked.yaml").readlink() == Path("web.yaml")
    (path / "kustomization.yaml").write_text("resources:\n  - linked.yaml\n")
    assert rules(path) == []
