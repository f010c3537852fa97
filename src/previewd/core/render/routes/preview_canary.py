"""The canary part of one preview's GitOps directory: grants, routes, router Application."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from previewd.core.render.routes.canary import CanaryTarget, canary_routes, reference_grants
from previewd.core.render.routes.router import ROUTER_FILE, ROUTES_DIR, router_application
from previewd.core.render.yamlout import dump_all

if TYPE_CHECKING:
    from previewd.config import CanaryConfig, Config


@dataclass(frozen=True)
class CanaryRender:
    files: dict[str, bytes] = field(default_factory=dict)  # relative to the preview directory
    # (namespace, pod ports) the PR namespace must admit for the routed traffic
    admits: list[tuple[str, list[int]]] = field(default_factory=list)


def selected_services(canary: CanaryConfig, chosen: Sequence[str] | None) -> frozenset[str]:
    """The routed services that run as canaries: all of them without ``services``; otherwise
    those the PR changed (``chosen``; unknown counts as none)."""
    routed = set(canary.routed_services)
    if canary.services is None:
        return frozenset(routed)
    return frozenset(routed & set(chosen or ()))


def render_canary(config: Config, canary: CanaryConfig, target: CanaryTarget, application: str,
                  directory: str, baseline_dir: str, annotations: dict[str, str]) -> CanaryRender:
    routes = canary_routes(canary, target)
    if not routes:
        return CanaryRender()
    files = {
        f"{ROUTES_DIR}/routes.yaml": dump_all(routes),
        ROUTER_FILE: dump_all([router_application(config, application, canary.stable_namespace,
                                                  directory, target.labels, annotations)]),
    }
    grants = reference_grants(canary, routes, target)
    if grants:
        files[f"{baseline_dir}/referencegrants.yaml"] = dump_all(grants)
    admits: dict[str, set[int]] = {}
    edge = canary.edge
    if edge is not None and edge.service in target.services:
        source = edge.gateway.namespace if edge.gateway else edge.controller_namespace
        admits.setdefault(source, set()).add(edge.pod_port)
    for entry in canary.grpc:
        if entry.service in target.services:
            admits.setdefault(canary.stable_namespace, set()).add(entry.pod_port)
    return CanaryRender(files, [(ns, sorted(ports)) for ns, ports in sorted(admits.items())])
