"""Header-routed canary objects: routes in the stable namespace, grants in the PR namespace.

The canary routes only add rules that match ``<header>: <PR number>`` exactly, so without the
header every request keeps reaching the stable routes, which previewd never touches. No rule
without the header match exists (no catch-all that could take stable traffic).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from previewd import naming
from previewd.core.render.yamlout import Manifest

if TYPE_CHECKING:
    from previewd.config import CanaryConfig

GATEWAY_GROUP = "gateway.networking.k8s.io"
TRAEFIK_GROUP = "traefik.io"
ROUTE_KINDS = ((GATEWAY_GROUP, "HTTPRoute"), (GATEWAY_GROUP, "GRPCRoute"), (TRAEFIK_GROUP, "IngressRoute"))


@dataclass(frozen=True)
class CanaryTarget:
    """One preview's canary: which PR namespace, and which routed services run as canaries."""

    number: int
    namespace: str  # the PR namespace (from naming)
    services: frozenset[str]  # the routed services deployed as canaries
    labels: dict[str, str]


def _meta(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels}


def _edge(canary: CanaryConfig, target: CanaryTarget) -> list[Manifest]:
    edge = canary.edge
    if edge is None or edge.service not in target.services:
        return []
    name = naming.object_name(target.namespace, "canary", edge.service)
    value = str(int(target.number))
    backend = {"name": edge.service, "namespace": target.namespace, "port": edge.port}
    if edge.kind == "traefik":
        route: dict[str, Any] = {
            "kind": "Rule",
            # Traefik v3 rule syntax; the value is digits only, the header a token: no quoting issue.
            "match": f"Host(`{edge.host}`) && Header(`{canary.header}`, `{value}`)",
            "services": [backend],
        }
        spec: dict[str, Any] = {"routes": [route]}
        if edge.entry_points:
            spec = {"entryPoints": list(edge.entry_points), **spec}
        return [{"apiVersion": f"{TRAEFIK_GROUP}/v1alpha1", "kind": "IngressRoute",
                 "metadata": _meta(name, canary.stable_namespace, target.labels), "spec": spec}]
    assert edge.gateway is not None  # config: httproute needs a gateway
    return [{
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(name, canary.stable_namespace, target.labels),
        "spec": {
            "parentRefs": [{"group": GATEWAY_GROUP, "kind": "Gateway", "name": edge.gateway.name,
                            "namespace": edge.gateway.namespace}],
            "hostnames": [edge.host],
            "rules": [{
                "matches": [{"headers": [{"type": "Exact", "name": canary.header, "value": value}]}],
                "backendRefs": [backend],
            }],
        },
    }]


def _grpc(canary: CanaryConfig, target: CanaryTarget) -> list[Manifest]:
    value = str(int(target.number))
    routes: list[Manifest] = []
    for entry in canary.grpc:
        if entry.service not in target.services:
            continue
        routes.append({
            "apiVersion": f"{GATEWAY_GROUP}/v1",
            "kind": "GRPCRoute",
            "metadata": _meta(naming.object_name(target.namespace, "canary", entry.service, "grpc"),
                              canary.stable_namespace, target.labels),
            "spec": {
                # GAMMA: a route whose parent is a Service applies to mesh traffic to that Service.
                "parentRefs": [{"group": "", "kind": "Service", "name": entry.service, "port": entry.port}],
                "rules": [{
                    # gRPC metadata keys are lower-case on the wire.
                    "matches": [{"headers": [{"type": "Exact", "name": canary.header.lower(), "value": value}]}],
                    "backendRefs": [{"name": entry.service, "namespace": target.namespace, "port": entry.port}],
                }],
            },
        })
    return routes


def canary_routes(canary: CanaryConfig, target: CanaryTarget) -> list[Manifest]:
    """The routes in the stable namespace (edge first, then gRPC), for the router Application."""
    return _edge(canary, target) + _grpc(canary, target)


def reference_grants(canary: CanaryConfig, routes: Collection[Manifest], target: CanaryTarget) -> list[Manifest]:
    """One ReferenceGrant per Gateway API route kind: from that kind in the stable namespace, to
    exactly the Services those routes point at. Traefik checks its own allowCrossNamespace."""
    by_kind: dict[str, set[str]] = {}
    for route in routes:
        if route["kind"] in ("HTTPRoute", "GRPCRoute"):
            for rule in route["spec"]["rules"]:
                by_kind.setdefault(route["kind"], set()).update(b["name"] for b in rule["backendRefs"])
    return [{
        "apiVersion": f"{GATEWAY_GROUP}/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": _meta(naming.object_name("canary", kind.lower()), target.namespace, target.labels),
        "spec": {
            "from": [{"group": GATEWAY_GROUP, "kind": kind, "namespace": canary.stable_namespace}],
            "to": [{"group": "", "kind": "Service", "name": name} for name in sorted(services)],
        },
    } for kind, services in sorted(by_kind.items())]
