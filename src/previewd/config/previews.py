"""``previews``: the baseline every preview namespace gets (naming, quota, limits, network)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from previewd import naming
from previewd.config.base import DnsLabel, Strict
from previewd.config.kube import Cidr, LabelKey, LabelValue, Port, Protocol, check_limits, check_quota


class QuotaConfig(Strict):
    hard: dict[str, str] = Field(
        default_factory=lambda: {
            "requests.cpu": "2",
            "requests.memory": "4Gi",
            "limits.cpu": "4",
            "limits.memory": "8Gi",
            "persistentvolumeclaims": "0",
            "services.loadbalancers": "0",
            "services.nodeports": "0",
            "count/pods": "20",
            "count/services": "10",
            "count/configmaps": "10",
            "count/secrets": "10",
        }
    )

    @field_validator("hard")
    @classmethod
    def _hard(cls, value: dict[str, str]) -> dict[str, str]:
        check_quota(value)
        return value


class LimitRangeConfig(Strict):
    default: dict[str, str] = Field(default_factory=lambda: {"cpu": "500m", "memory": "512Mi"})
    default_request: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )
    max: dict[str, str] = Field(default_factory=lambda: {"cpu": "2", "memory": "4Gi"})

    @model_validator(mode="after")
    def _limits(self) -> LimitRangeConfig:
        check_limits({"default": self.default, "default_request": self.default_request, "max": self.max})
        return self


class PortRange(Strict):
    """``port`` through ``end_port`` (NetworkPolicy ``endPort``)."""

    port: Port
    end_port: Port

    @model_validator(mode="after")
    def _order(self) -> PortRange:
        if self.end_port < self.port:
            raise ValueError(f"end_port {self.end_port} is below port {self.port}")
        return self


class EgressRule(Strict):
    """An extra egress allowance: pods in ``namespace`` (optionally only those with
    ``pod_labels``), or the address ranges in ``cidrs``; on ``ports`` (numbers or ranges)."""

    namespace: DnsLabel | None = None
    pod_labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    cidrs: list[Cidr] = Field(default_factory=list)
    ports: list[Port | PortRange] = Field(default_factory=list)
    protocol: Protocol = "TCP"

    @model_validator(mode="after")
    def _one_peer(self) -> EgressRule:
        if (self.namespace is None) == (not self.cidrs):
            raise ValueError("set exactly one of namespace (with optional pod_labels) and cidrs")
        if self.cidrs and self.pod_labels:
            raise ValueError("pod_labels select pods in a namespace; they do not apply to cidrs")
        return self


class NetworkConfig(Strict):
    ingress_namespaces: list[DnsLabel] = Field(default_factory=lambda: ["ingress-nginx"])
    dns_namespace: DnsLabel = "kube-system"
    extra_egress: list[EgressRule] = Field(default_factory=list)


class PreviewDefaults(Strict):
    namespace_template: str = "pr-{number}-{repo}"
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    limit_range: LimitRangeConfig = Field(default_factory=LimitRangeConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)

    @field_validator("namespace_template")
    @classmethod
    def _template(cls, value: str) -> str:
        naming.check_namespace_template(value)
        return value
