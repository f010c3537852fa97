"""Rendering: deterministic bytes, schema-valid documents, the seed's MUST rules, golden files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from previewd.config import Config
from previewd.core.render.bootstrap import bootstrap_files
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.settings import parse_config
from tests import schemas
from tests.support import base_config

GOLDEN = Path(__file__).parent / "golden" / "acme-shop-pr-42"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    data["gitops"]["workdir"] = "/state/work"
    data["previews"] = {"network": {"extra_egress": [
        {"namespace": "shared-services", "pod_labels": {"app": "postgres"}, "ports": [5432]}]}}
    return parse_config(data, {})


def render(config: Config, **kw: Any) -> dict[str, bytes]:
    repo = config.repository("acme/shop")
    assert repo is not None
    data = PreviewInput("acme/shop", 42, kw.pop("sha", SHA), "2026-01-01T00:00:00Z", **kw)
    return render_preview(config, repo, data)


def docs(files: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    return {name: [d for d in yaml.safe_load_all(body) if d] for name, body in files.items()}


def test_every_rendered_document_validates(config: Config) -> None:
    files = render(config, images={"ghcr.io/acme/shop": "registry.example.com/acme/shop@sha256:" + "a" * 64})
    kinds = []
    for body in files.values():
        for doc in schemas.validate_bytes(body):
            kinds.append(doc["kind"])
    assert sorted(set(kinds)) == [
        "Application", "HTTPRoute", "LimitRange", "Namespace", "NetworkPolicy", "ResourceQuota",
    ]
    assert kinds.count("Application") == 1


def test_rendering_is_byte_identical_across_calls(config: Config) -> None:
    assert render(config) == render(config)


def test_matches_golden_files(config: Config) -> None:
    files = render(config)
    if os.environ.get("UPDATE_GOLDEN"):
        for name, body in files.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(body)
    golden = {str(p.relative_to(GOLDEN)): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}
    assert files == golden


def test_application_follows_the_seed_rules(config: Config) -> None:
    (app,) = docs(render(config))["application.yaml"]
    spec = app["spec"]
    assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert spec["project"] == "previews"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "pr-42-shop"}
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert spec["syncPolicy"]["syncOptions"] == [
        "FailOnSharedResource=true", "PruneLast=true", "PrunePropagationPolicy=foreground"]
    bundle, baseline = spec["sources"]
    assert bundle == {"repoURL": "https://github.com/acme/shop.git", "targetRevision": SHA,
                      "path": "deploy/preview"}
    assert baseline["repoURL"] == "/srv/gitops.git"
    assert baseline["path"] == "previews/acme/shop/pr-42/baseline"


def test_namespace_labels_and_annotations(config: Config) -> None:
    (ns,) = docs(render(config))["baseline/namespace.yaml"]
    assert ns["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "previewd", "previewd.io/pr": "42",
        "previewd.io/repository": "acme.shop"}
    ann = ns["metadata"]["annotations"]
    assert ann["previewd.io/repository"] == "acme/shop"
    assert ann["previewd.io/pr-url"] == "https://github.com/acme/shop/pull/42"
    assert ann["previewd.io/head-sha"] == SHA
    assert ann["previewd.io/created-at"] == "2026-01-01T00:00:00Z"


def test_network_policies_isolate_the_namespace(config: Config) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in docs(render(config))["baseline/networkpolicies.yaml"]}
    assert policies["default-deny-all"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    sources = [f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for f in policies["allow-ingress-controller"]["ingress"][0]["from"]]
    assert sources == ["gateway-system", "ingress-nginx"]
    assert policies["allow-dns"]["egress"][0]["ports"][0] == {"protocol": "UDP", "port": 53}
    assert "allow-same-namespace" in policies
    assert policies["allow-egress-0-shared-services"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_pinned_images_become_kustomize_overrides(config: Config) -> None:
    ref = "registry.example.com/acme/shop@sha256:" + "b" * 64
    (app,) = docs(render(config, images={"ghcr.io/acme/shop": ref}))["application.yaml"]
    assert app["spec"]["sources"][0]["kustomize"] == {"images": [f"ghcr.io/acme/shop={ref}"]}


def test_bad_sha_is_refused(config: Config) -> None:
    with pytest.raises(ValueError, match="40-hex"):
        render(config, sha="main; rm -rf /")


def test_bootstrap_manifests_validate_and_restrict(config: Config) -> None:
    files = {name: schemas.validate_bytes(body) for name, body in bootstrap_files(config).items()}
    (project,) = files["appproject-previews.yaml"]
    assert project["spec"]["destinations"] == [
        {"server": "https://kubernetes.default.svc", "namespace": "pr-*"}]
    assert project["spec"]["clusterResourceWhitelist"] == [
        {"group": "", "kind": "Namespace", "name": "pr-*"}]
    assert sorted(project["spec"]["sourceRepos"]) == ["/srv/gitops.git", "https://github.com/acme/shop.git"]
    (root_project,) = files["appproject-root.yaml"]
    assert root_project["spec"]["sourceRepos"] == ["/srv/gitops.git"]
    assert root_project["spec"]["destinations"] == [
        {"server": "https://kubernetes.default.svc", "namespace": "argocd"}]
    assert root_project["spec"]["clusterResourceWhitelist"] == []
    assert root_project["spec"]["namespaceResourceWhitelist"] == [{"group": "argoproj.io", "kind": "Application"}]
    (root,) = files["root-application.yaml"]
    assert root["spec"]["source"]["directory"]["include"] == "*/*/pr-*/application.yaml"
    assert root["spec"]["project"] == "previews-root"
    policy, binding = files["admission-guard.yaml"]
    assert 'object.spec.project == "previews"' in policy["spec"]["validations"][0]["expression"]
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]


def test_notifications_configmap_only_when_previewd_receives_notifications(config: Config) -> None:
    # Applying it replaces an existing argocd-notifications-cm: never written unasked.
    assert "argocd-notifications-cm.yaml" not in bootstrap_files(config)
    assert "platform-namespaces-policy.yaml" not in bootstrap_files(config)
