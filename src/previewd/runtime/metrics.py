"""Prometheus metrics, one registry per process (no module-level state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "previewd_webhooks_total", "Webhook deliveries by source and outcome",
            ["source", "outcome"], registry=self.registry,
        )
        self.commits = Counter(
            "previewd_gitops_commits_total", "Commits pushed to the GitOps repository",
            registry=self.registry,
        )
        self.push_failures = Counter(
            "previewd_gitops_push_failures_total", "Failed GitOps write attempts",
            registry=self.registry,
        )
        self.previews = Gauge(
            "previewd_previews", "Previews by state", ["state"], registry=self.registry
        )
