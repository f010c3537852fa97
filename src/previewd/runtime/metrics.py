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
        self.github_rate_remaining = Gauge(
            "previewd_github_rate_limit_remaining", "GitHub API requests left in the current window",
            registry=self.registry,
        )
        self.github_requests = Gauge(
            "previewd_github_requests", "GitHub API requests sent since start, by outcome",
            ["outcome"], registry=self.registry,
        )
        self.teardown_guard = Gauge(
            "previewd_mass_teardown_guard_blocked", "1 while the last resync's teardowns were withheld",
            registry=self.registry,
        )
