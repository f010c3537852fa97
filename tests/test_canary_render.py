"""Canary rendering: routes in the stable namespace, grants in the PR namespace, the router
Application and routes project, network admits; every document schema-valid."""

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
from tests.canary_support import with_canary
from tests.support import base_config

GOLDEN = Path(__file__).parent / "golden" / "acme-shop-pr-42-canary"
SHA = "0123456789abcdef0123456789abcdef01234567"


def make_config(**kw: Any) -> Config:
    data = with_canary(base_config(Path("/state"), Path("/srv/gitops.git")), **kw)
    data["github"] = {"webhook_secret": "x"}
    data["gitops"]["workdir"] = "/state/work"
    return parse_config(data, {})


def render(config: Config, services: tuple[str, ...] | None = ("api", "store")) -> dict[str, bytes]:
    repo = config.repository("acme/shop")
    assert repo is not None
    return render_preview(config, repo, PreviewInput("acme/shop", 42, SHA, "2026-01-01T00:00:00Z",
                                                     canary_services=services))


def docs(files: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    return {name: [d for d in yaml.safe_load_all(body) if d] for name, body in files.items()}


@pytest.mark.parametrize("kind", ["httproute", "traefik"])
def test_every_canary_document_validates(kind: str) -> None:
    files = render(make_config(kind=kind))
    kinds = sorted(d["kind"] for body in files.values() for d in schemas.validate_bytes(body))
    edge = "HTTPRoute" if kind == "httproute" else "IngressRoute"
    assert {edge, "GRPCRoute", "ReferenceGrant"} <= set(kinds)
    assert kinds.count("Application") == 2


def test_httproute_matches_host_and_header_exactly_to_the_pr_namespace() -> None:
    rendered = docs(render(make_config()))
    edge, grpc = rendered["routes/routes.yaml"]
    assert edge["metadata"]["namespace"] == "apps"
    assert edge["spec"]["hostnames"] == ["api.dev.example.com"]
    assert edge["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                           "name": "edge", "namespace": "gateway-system"}]
    (rule,) = edge["spec"]["rules"]
    assert rule["matches"] == [{"headers": [{"type": "Exact", "name": "X-Canary", "value": "42"}]}]
    assert rule["backendRefs"] == [{"name": "api", "namespace": "pr-42-shop", "port": 80}]
    # GAMMA: attached to the apex Service; every rule needs the header (no catch-all).
    assert grpc["spec"]["parentRefs"] == [{"group": "", "kind": "Service", "name": "store", "port": 80}]
    assert all(r["matches"][0]["headers"] == [{"type": "Exact", "name": "x-canary", "value": "42"}]
               for r in grpc["spec"]["rules"])
    assert grpc["spec"]["rules"][0]["backendRefs"][0]["namespace"] == "pr-42-shop"


def test_traefik_ingressroute_matches_host_and_header() -> None:
    (route, _) = docs(render(make_config(kind="traefik")))["routes/routes.yaml"]
    assert route["kind"] == "IngressRoute" and route["metadata"]["namespace"] == "apps"
    assert route["spec"]["entryPoints"] == ["websecure"]
    (rule,) = route["spec"]["routes"]
    assert rule["match"] == "Host(`api.dev.example.com`) && Header(`X-Canary`, `42`)"
    assert rule["services"] == [{"name": "api", "namespace": "pr-42-shop", "port": 80}]
    # Traefik does not use ReferenceGrants: only the GRPCRoute's grant is rendered.
    grants = docs(render(make_config(kind="traefik")))["baseline/referencegrants.yaml"]
    assert [g["spec"]["from"][0]["kind"] for g in grants] == ["GRPCRoute"]


def test_reference_grants_allow_exactly_the_routes_kinds_and_services() -> None:
    grants = docs(render(make_config()))["baseline/referencegrants.yaml"]
    assert [(g["metadata"]["namespace"], g["spec"]) for g in grants] == [
        ("pr-42-shop", {"from": [{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute", "namespace": "apps"}],
                   "to": [{"group": "", "kind": "Service", "name": "store"}]}),
        ("pr-42-shop", {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "apps"}],
                   "to": [{"group": "", "kind": "Service", "name": "api"}]}),
    ]


def test_router_application_uses_the_routes_project_and_the_routes_directory() -> None:
    config = make_config()
    files = docs(render(config))
    (router,) = files["router-application.yaml"]
    (preview,) = files["application.yaml"]
    assert router["spec"]["project"] == "previews-routes"
    # Not a DNS label: no preview Application (say of a repository named shop-routes) has it.
    assert router["metadata"]["name"] == "pr-42-shop.routes"
    assert router["spec"]["destination"]["namespace"] == "apps"
    assert router["spec"]["source"]["path"] == "previews/acme/shop/pr-42/routes"
    assert router["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert preview["spec"]["project"] == "previews"
    assert preview["spec"]["destination"]["namespace"] == "pr-42-shop"
    # Everything the router deploys lives in the stable namespace; nothing else does.
    assert {d["metadata"]["namespace"] for d in files["routes/routes.yaml"]} == {"apps"}
    assert all(d["metadata"]["namespace"] != "apps" for name, ds in files.items()
               if name.startswith("baseline/") for d in ds if "namespace" in d["metadata"])


def test_routes_project_is_narrow_and_previews_project_does_not_gain_stable() -> None:
    config = make_config()
    boot = docs(bootstrap_files(config))
    (routes,) = boot["appproject-routes.yaml"]
    for body in bootstrap_files(config).values():
        schemas.validate_bytes(body)
    assert routes["spec"]["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "apps"}]
    assert routes["spec"]["clusterResourceWhitelist"] == []
    assert routes["spec"]["namespaceResourceWhitelist"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"},
        {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"},
        {"group": "traefik.io", "kind": "IngressRoute"},
    ]
    assert routes["spec"]["sourceRepos"] == ["/srv/gitops.git"]
    (previews,) = boot["appproject-previews.yaml"]
    assert [d["namespace"] for d in previews["spec"]["destinations"]] == ["pr-*"]
    (root,) = boot["root-application.yaml"]
    include = root["spec"]["source"]["directory"]["include"]
    assert include == "{*/*/pr-*/application.yaml,*/*/pr-*/router-application.yaml}"


def test_without_canaries_bootstrap_has_no_routes_project() -> None:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    files = bootstrap_files(parse_config(data, {}))
    assert "appproject-routes.yaml" not in files


def test_network_policies_admit_gateway_and_stable_on_routed_ports_only() -> None:
    policies = {p["metadata"]["name"]: p for p in docs(render(make_config()))["baseline/networkpolicies.yaml"]}
    edge = policies["allow-canary-from-gateway-system"]["spec"]["ingress"]
    selector = {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}
    assert edge == [{"from": [{"namespaceSelector": selector}], "ports": [{"protocol": "TCP", "port": 8080}]}]
    stable = policies["allow-canary-from-apps"]["spec"]["ingress"]
    assert stable[0]["ports"] == [{"protocol": "TCP", "port": 9090}]
    traefik = {p["metadata"]["name"] for p in
               docs(render(make_config(kind="traefik")))["baseline/networkpolicies.yaml"]}
    assert "allow-canary-from-traefik" in traefik


def test_only_changed_services_get_canary_routes() -> None:
    config = make_config()
    files = docs(render(config, ("store",)))
    assert [d["kind"] for d in files["routes/routes.yaml"]] == ["GRPCRoute"]
    assert "allow-canary-from-gateway-system" not in {
        p["metadata"]["name"] for p in files["baseline/networkpolicies.yaml"]}
    nothing = render(config, ())
    assert not any(n.startswith("routes/") or n in ("router-application.yaml", "baseline/referencegrants.yaml")
                   for n in nothing)


def test_without_services_every_routed_service_is_a_canary() -> None:
    files = docs(render(make_config(services=False), None))
    assert [d["kind"] for d in files["routes/routes.yaml"]] == ["HTTPRoute", "GRPCRoute"]


def test_matches_golden_files() -> None:
    files = render(make_config())
    if os.environ.get("PREVIEWD_UPDATE_GOLDEN"):
        for rel, body in files.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(body)
    golden = {str(p.relative_to(GOLDEN)): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}
    assert files == golden
