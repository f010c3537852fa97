"""Baseline resources of a preview namespace: Namespace, quota, limits, network isolation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from previewd.core.render.yamlout import Manifest

if TYPE_CHECKING:
    from previewd.config import EgressRule, LimitRangeConfig, NetworkConfig

# Argo CD creates the Namespace before anything else in the Application.
_FIRST_WAVE = {"argocd.argoproj.io/sync-wave": "-1"}


def _meta(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels}


def namespace(name: str, labels: dict[str, str], annotations: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels, "annotations": {**annotations, **_FIRST_WAVE}},
    }


def resource_quota(ns: str, labels: dict[str, str], hard: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta("preview-quota", ns, labels),
        "spec": {"hard": dict(sorted(hard.items()))},
    }


def limit_range(ns: str, labels: dict[str, str], limits: LimitRangeConfig) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta("preview-limits", ns, labels),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": dict(sorted(limits.default.items())),
                    "defaultRequest": dict(sorted(limits.default_request.items())),
                    "max": dict(sorted(limits.max.items())),
                }
            ]
        },
    }


def _from_namespaces(names: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
        for n in sorted(set(names))
    ]


def _policy(ns: str, name: str, labels: dict[str, str], spec: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(name, ns, labels),
        "spec": {"podSelector": {}, **spec},
    }


def network_policies(
    ns: str, labels: dict[str, str], net: NetworkConfig, gateway_namespaces: Sequence[str],
    canary_admits: Sequence[tuple[str, Sequence[int]]] = (),
) -> list[Manifest]:
    """Default deny; allow ingress controller, DNS, same-namespace and configured egress; and
    the canary's callers (edge gateway, stable namespace), each on its routed ports only."""
    policies = [
        _policy(ns, "default-deny-all", labels, {"policyTypes": ["Ingress", "Egress"]}),
        _policy(
            ns,
            "allow-same-namespace",
            labels,
            {
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        ),
        _policy(
            ns,
            "allow-dns",
            labels,
            {
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": _from_namespaces([net.dns_namespace]),
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
    ]
    ingress_from = [*net.ingress_namespaces, *gateway_namespaces]
    if ingress_from:
        policies.append(
            _policy(
                ns,
                "allow-ingress-controller",
                labels,
                {"policyTypes": ["Ingress"], "ingress": [{"from": _from_namespaces(ingress_from)}]},
            )
        )
    for source, ports in canary_admits:
        policies.append(_policy(
            ns, f"allow-canary-from-{source}"[:63].rstrip("-"), labels,
            {"policyTypes": ["Ingress"], "ingress": [{
                "from": _from_namespaces([source]),
                "ports": [{"protocol": "TCP", "port": p} for p in sorted(set(ports))],
            }]},
        ))
    for index, rule in enumerate(net.extra_egress):
        policies.append(_policy(ns, f"allow-egress-{index}-{rule.namespace or 'cidrs'}"[:63].rstrip("-"),
                                labels, {"policyTypes": ["Egress"], "egress": [_egress(rule)]}))
    return policies


def _egress(rule: EgressRule) -> dict[str, Any]:
    peers: list[dict[str, Any]] = [{"ipBlock": {"cidr": cidr}} for cidr in rule.cidrs]
    if rule.namespace is not None:
        peer: dict[str, Any] = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": rule.namespace}}
        }
        if rule.pod_labels:
            peer["podSelector"] = {"matchLabels": dict(sorted(rule.pod_labels.items()))}
        peers.append(peer)
    egress: dict[str, Any] = {"to": peers}
    if rule.ports:
        egress["ports"] = [
            {"protocol": rule.protocol, "port": p} if isinstance(p, int)
            else {"protocol": rule.protocol, "port": p.port, "endPort": p.end_port}
            for p in rule.ports
        ]
    return egress
