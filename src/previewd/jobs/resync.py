"""Resync: list open PRs of every configured repository and re-check every live preview.

Level-triggered repair for missed webhooks. A preview missing from the list is closed only on a
confirmed close (a GET of the PR says closed); a failed, empty, partial or malformed list is
never taken as "closed" or "unlabelled" (a malformed answer fails that repository's resync),
and if the whole resync would tear down more previews than
``github.max_teardowns_per_resync``, for whatever reason, it tears down none of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from previewd.adapters.scm.github import GitHubScm
from previewd.core.events import pull_request_from_api
from previewd.core.models import PreviewState, PullRequest
from previewd.core.teardown import causes_teardown, plan_teardowns
from previewd.errors import PreviewdError, TransientError
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.pull_requests import apply_snapshot, plan_snapshot

log = logging.getLogger("previewd.resync")

_GONE = (PreviewState.NONE, PreviewState.TORN_DOWN)
MAX_FAILURE_STREAK = 3  # consecutive failed repositories before the rest of this resync is skipped


@dataclass
class ResyncStatus:
    """What the last resync saw, for ``/api/status``."""

    runs: int = 0
    last_finished: float | None = None
    failed_repositories: list[str] = field(default_factory=list)
    guard_blocked: bool = False
    guard_reason: str = ""
    blocked_reasons: dict[str, str] = field(default_factory=dict)  # "owner/repo#N" -> reason code

    @property
    def blocked_teardowns(self) -> list[str]:
        """The previews the guard withheld, "owner/repo#N", in order."""
        return list(self.blocked_reasons)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "last_finished": self.last_finished,
                "failed_repositories": self.failed_repositories,
                "mass_teardown_guard": {"blocked": self.guard_blocked, "reason": self.guard_reason,
                                        "previews": self.blocked_teardowns,
                                        "reasons": self.blocked_reasons}}


def _apply(ctx: JobContext, pr: PullRequest) -> Changed:
    with ctx.store.transaction() as conn:
        before, after = apply_snapshot(ctx.config, ctx.store, conn, pr, "api")
    return [(before, after)] if after is not None and after != before else []


def _open_snapshots(body: list[Any], repo: str, now: datetime) -> list[PullRequest]:
    """Every listed PR, or TransientError if any item is malformed (the list is not trusted)."""
    return [replace(pull_request_from_api(item, now, repo), repo=repo) for item in body]


def _snapshots(ctx: JobContext, scm: GitHubScm, failed: list[str], now: datetime,
               replay: bool) -> list[PullRequest]:
    """Every snapshot this resync would apply: the fresh open lists (every list when ``replay``),
    then a GET of each live preview missing from its list."""
    snapshots: list[PullRequest] = []
    live = [p for p in ctx.store.list_previews() if p.state not in _GONE or p.allowed]
    streak = 0
    for repo in ctx.config.repositories:
        if streak >= MAX_FAILURE_STREAK:  # GitHub is down or limiting us: do not wait on every repository
            failed.append(repo.name)
            continue
        try:
            pulls, fresh = scm.list_open_pulls(repo.name)
            listed = _open_snapshots(pulls, repo.name, now)
        except PreviewdError as err:
            log.warning("resync %s: listing open PRs failed, nothing torn down: %s", repo.name, err.diagnostics())
            failed.append(repo.name)
            streak = MAX_FAILURE_STREAK if isinstance(err, TransientError) and err.retry_after else streak + 1
            continue
        streak = 0
        seen = {pr.number for pr in listed}
        if fresh or replay:  # a 304 list holds nothing new, unless the guard withheld some of it
            snapshots += listed
        for preview in live:
            if preview.repo.lower() != repo.key or preview.number in seen:
                continue
            try:
                pr = replace(pull_request_from_api(scm.get_pull(repo.name, preview.number), now, repo.name),
                             repo=repo.name)
            except PreviewdError as err:
                log.warning("resync %s#%d: not in the open list and the GET failed; kept: %s",
                            repo.name, preview.number, err.diagnostics())
                continue
            snapshots.append(pr)  # open (the list lagged behind) or a confirmed close
    return snapshots


def resync(ctx: JobContext, scm: GitHubScm, status: ResyncStatus, now: float) -> Changed:
    """One full resync of every configured repository."""
    failed: list[str] = []
    snapshots = _snapshots(ctx, scm, failed, datetime.now(UTC), replay=status.guard_blocked)
    with ctx.store.transaction() as conn:
        planned = [(pr, plan_snapshot(ctx.config, ctx.store, conn, pr, "api")) for pr in snapshots]
    teardowns = {(pr.repo, pr.number): after.reason_code for pr, (before, after) in planned
                 if after is not None and causes_teardown(before, after)}
    plan = plan_teardowns(teardowns, ctx.config.github.max_teardowns_per_resync)
    status.guard_blocked, status.guard_reason = plan.blocked, plan.reason
    withheld = sorted(teardowns) if plan.blocked else []
    status.blocked_reasons = {f"{r}#{n}": teardowns[(r, n)] for r, n in withheld}
    if plan.blocked:
        log.error("mass-teardown guard: %s: %s", plan.reason,
                  ", ".join(f"{key} ({why})" for key, why in status.blocked_reasons.items()))
    changed: Changed = []
    for pr, _ in planned:
        if plan.blocked and (pr.repo, pr.number) in teardowns:
            continue
        changed += _apply(ctx, pr)
    status.runs += 1
    status.last_finished = now
    status.failed_repositories = failed
    return changed
