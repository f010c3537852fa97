"""Wire the GitHub capability when ``github.auth`` is set: adapter, feedback, resync, ChatOps,
bundle check. Without it previewd runs webhook-only, exactly as before."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from previewd.adapters.scm import PROVIDERS
from previewd.adapters.scm.github import GitHubScm
from previewd.adapters.store.github_state import GithubState
from previewd.config import Config
from previewd.images import locate
from previewd.jobs import chatops, feedback, resync, tag_cleanup
from previewd.jobs.bundle_check import BundleCheckResolver
from previewd.jobs.context import Changed, JobContext
from previewd.runtime.metrics import Metrics
from previewd.runtime.worker import Periodic, Worker

# Feedback and commands run on the worker pass after any activity (an event, a changed
# preview); idle, only this often, for retries that came due meanwhile.
FEEDBACK_INTERVAL = 5.0
COMMANDS_INTERVAL = 5.0

log = logging.getLogger("previewd.github")


@dataclass
class GithubRuntime:
    scm: GitHubScm
    state: GithubState
    status: resync.ResyncStatus

    def run_resync(self, ctx: JobContext) -> Changed:
        return resync.resync(ctx, self.scm, self.status, time.time())

    def run_feedback(self, ctx: JobContext) -> Changed:
        feedback.publish_feedback(ctx.config, ctx.store.get_preview, self.scm, self.state, time.time())
        return []

    def run_commands(self, ctx: JobContext) -> Changed:
        return chatops.run_commands(ctx, self.scm, self.state)

    def export_metrics(self, metrics: Metrics) -> None:
        """Set the GitHub gauges from what the adapter and the last resync saw (no I/O)."""
        if self.scm.rate.remaining is not None:
            metrics.github_rate_remaining.set(self.scm.rate.remaining)
        metrics.github_requests.labels("sent").set(self.scm.requests)
        metrics.github_requests.labels("not_modified").set(self.scm.not_modified)
        metrics.teardown_guard.set(1 if self.status.guard_blocked else 0)

    def status_json(self) -> dict[str, Any]:
        """The GitHub part of ``/api/status``; reads only."""
        return {"configured": True, "rate_limit": self.scm.rate.as_dict(),
                "requests": {"sent": self.scm.requests, "not_modified": self.scm.not_modified},
                "resync": self.status.as_dict(), "feedback_pending": self.state.pending_count()}


def wire_github(config: Config, worker: Worker) -> GithubRuntime | None:
    """Register the GitHub jobs; ``ctx.adapters["github"]`` is the runtime (None: not configured),
    whose ``state`` the ChatOps intake handler records commands in.

    With a token, the adapter is also ``ctx.adapters["ghcr"]``: GHCR tag cleanup through the
    GitHub Packages API, which does not accept GitHub App tokens."""
    if config.github.auth is None:
        return None
    ctx = worker.ctx
    scm = PROVIDERS["github"](config.github)
    state = GithubState(ctx.store)
    runtime = GithubRuntime(scm, state, resync.ResyncStatus())
    ctx.adapters["github"] = runtime
    ctx.observers.append(feedback.FeedbackObserver(state))
    ctx.images = BundleCheckResolver(ctx.images, scm, state)
    ctx.changed_files = scm
    if config.github.auth.token is not None:
        ctx.adapters["ghcr"] = scm
    elif any(repo.cleanup_tags and locate(image.source).host == tag_cleanup.GHCR
             for repo in config.repositories for image in repo.images):
        log.warning("GHCR tags will not be cleaned up: the GitHub Packages API needs github.auth.token "
                    "(a personal access token (classic) with read:packages, delete:packages), not an App")
    worker.periodic += [
        Periodic("github-commands", COMMANDS_INTERVAL, runtime.run_commands, on_activity=True),
        Periodic("github-resync", config.github.resync_interval.total_seconds(), runtime.run_resync),
        Periodic("github-feedback", FEEDBACK_INTERVAL, runtime.run_feedback, on_activity=True),
    ]
    return runtime
