"""Wire the registry capability: one shared client, preview gating, tag cleanup."""

from __future__ import annotations

from previewd.adapters.image_resolver import RegistryImageResolver
from previewd.adapters.registry import RegistryClient
from previewd.config import Config
from previewd.jobs import tag_cleanup
from previewd.runtime.worker import Periodic, Worker

# Cleanup runs on the worker pass after any activity (a teardown); idle, this often at most:
# each request's retry time is returned by the job and brings its next run forward.
CLEANUP_INTERVAL = 30.0


def wire_registry(config: Config, worker: Worker) -> RegistryClient | None:
    """Add the client as ``ctx.adapters["registry"]`` and gate previews when images are set."""
    gated = any(repo.images for repo in config.repositories)
    if not gated and not config.registries:
        return None
    client = RegistryClient(config.registries)
    worker.ctx.adapters["registry"] = client
    if gated:
        worker.ctx.images = RegistryImageResolver(client)
    if any(repo.cleanup_tags for repo in config.repositories):
        worker.periodic.append(Periodic("tag-cleanup", CLEANUP_INTERVAL, tag_cleanup.run,
                                         on_activity=True))
    return client
