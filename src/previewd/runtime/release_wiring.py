"""Wire the release controller: its own state-repository workspace, the shared registry
client, its store tables and two worker jobs (drain queued pushes, poll tags)."""

from __future__ import annotations

from previewd.adapters.registry import RegistryClient
from previewd.adapters.store.releases import ReleaseStore
from previewd.config import Config
from previewd.jobs import releases as release_jobs
from previewd.releases.controller import ReleaseController
from previewd.runtime.metrics import Metrics
from previewd.runtime.worker import Periodic, Worker
from previewd.runtime.workspaces import workspace_for

# Drain on the worker pass after any activity: the worker wakes on each stored event, so a
# push is handled right after its notification is accepted. Idle, only this often, for the
# controller's own retries.
DRAIN_INTERVAL = 5.0


def wire_releases(config: Config, worker: Worker, metrics: Metrics) -> ReleaseController | None:
    """Add ``ctx.adapters["releases"]`` and its jobs when ``releases:`` is configured."""
    if config.releases is None:
        return None
    client = worker.ctx.adapters.get("registry")
    if not isinstance(client, RegistryClient):
        client = RegistryClient(config.registries)
        worker.ctx.adapters["registry"] = client
    controller = ReleaseController(config.releases, workspace_for(config.releases.gitops), client,
                                   ReleaseStore(worker.ctx.store), metrics.registry)
    worker.ctx.adapters[release_jobs.ADAPTER] = controller
    worker.periodic.append(Periodic("releases-drain", DRAIN_INTERVAL, release_jobs.drain,
                                    on_activity=True))
    worker.periodic.append(Periodic("releases-poll", config.releases.poll_interval.total_seconds(),
                                    release_jobs.poll))
    return controller
