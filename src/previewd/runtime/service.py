"""Build a running previewd from a Config: store, GitOps workspace, worker, metrics."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from previewd.adapters.git import init_bare
from previewd.adapters.store.sql import Store
from previewd.config import Config
from previewd.core.models import PreviewState
from previewd.errors import ConfigError
from previewd.jobs import drift
from previewd.jobs.context import JobContext
from previewd.runtime.github_wiring import GithubRuntime, wire_github
from previewd.runtime.metrics import Metrics
from previewd.runtime.registry_wiring import wire_registry
from previewd.runtime.release_wiring import wire_releases
from previewd.runtime.worker import Periodic, Worker
from previewd.runtime.workspaces import workspace_for

log = logging.getLogger("previewd.service")


@dataclass
class Service:
    config: Config
    store: Store
    worker: Worker
    metrics: Metrics
    webhook_secret: str

    @property
    def ctx(self) -> JobContext:
        return self.worker.ctx

    def refresh_gauges(self) -> None:
        counts = dict.fromkeys(PreviewState, 0)
        for preview in self.store.list_previews():
            counts[preview.state] += 1
        for state, count in counts.items():
            self.metrics.previews.labels(state.value).set(count)
        github = self.ctx.adapters.get("github")
        if isinstance(github, GithubRuntime):
            github.export_metrics(self.metrics)


def generated_secret(state_dir: Path) -> tuple[str, bool]:
    """The embedded-defaults webhook secret, generated once and kept in ``state_dir``."""
    path = state_dir / "webhook-secret"
    if path.exists():
        return path.read_text().strip(), False
    state_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value, True


EVENT_RETENTION = timedelta(days=7)


def prune_events(ctx: JobContext) -> None:
    """Handled events are kept a week, long enough to recognise GitHub's redeliveries."""
    removed = ctx.store.prune_events(datetime.now(UTC) - EVENT_RETENTION)
    if removed:
        log.info("pruned %d handled events", removed)


def build_service(config: Config, state_dir: Path | None = None) -> Service:
    """Wire every adapter. ``state_dir`` is set only when running on embedded defaults."""
    if state_dir is not None:
        init_bare(Path(config.gitops.url))
    if config.github.webhook_secret is not None:
        secret = config.github.webhook_secret.get_secret_value()
    elif state_dir is not None:
        secret, fresh = generated_secret(state_dir)
        if fresh:
            print(f"previewd: generated webhook secret (shown once, kept in {state_dir}/webhook-secret):")
            print(f"  {secret}")
    else:
        raise ConfigError(["github.webhook_secret: required when a config file is used"])
    store = Store(config.store.url)
    metrics = Metrics()
    ctx = JobContext(config=config, store=store, workspace=workspace_for(config.gitops))
    worker = Worker(ctx=ctx, metrics=metrics, unready_after=config.gitops.unready_after.total_seconds())
    worker.periodic.append(Periodic("prune-events", 3600.0, prune_events))
    worker.periodic.append(Periodic("gitops-drift", config.gitops.drift_check_interval.total_seconds(),
                                    drift.DriftCheck()))
    wire_registry(config, worker)
    wire_releases(config, worker, metrics)
    wire_github(config, worker)  # after wire_registry: the bundle check wraps its resolver
    return Service(config=config, store=store, worker=worker, metrics=metrics, webhook_secret=secret)
