"""``previews``: the baseline every preview namespace gets (naming, quota, limits, network)."""

from __future__ import annotations

from pydantic import Field, field_validator

from previewd.config.base import DnsLabel, Strict
from previewd.core import naming


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


class LimitRangeConfig(Strict):
    default: dict[str, str] = Field(default_factory=lambda: {"cpu": "500m", "memory": "512Mi"})
    default_request: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )
    max: dict[str, str] = Field(default_factory=lambda: {"cpu": "2", "memory": "4Gi"})


class EgressRule(Strict):
    """An extra egress allowance, for example to shared services."""

    namespace: DnsLabel
    pod_labels: dict[str, str] = Field(default_factory=dict)
    ports: list[int] = Field(default_factory=list)
    protocol: str = "TCP"


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
