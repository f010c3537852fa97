"""Resync: list open PRs of every configured repository and re-check every live preview.

Level-triggered repair for missed webhooks. A preview is torn down only on a confirmed close
(a GET of the PR says closed); a failed, empty or partial list is never taken as "closed",
and more confirmed closes than ``github.max_teardowns_per_resync`` tear down none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from previewd.adapters.scm.github import GitHubScm
from previewd.core.events import pull_request_from_api
from previewd.core.models import PreviewState, PullRequest
from previewd.core.teardown import plan_teardowns
from previewd.errors import PreviewdError, TransientError
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.pull_requests import apply_snapshot

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
    blocked_teardowns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "last_finished": self.last_finished,
                "failed_repositories": self.failed_repositories,
                "mass_teardown_guard": {"blocked": self.guard_blocked, "reason": self.guard_reason,
                                        "previews": self.blocked_teardowns}}


def _apply(ctx: JobContext, pr: PullRequest) -> Changed:
    with ctx.store.transaction() as conn:
        before, after = apply_snapshot(ctx.config, ctx.store, conn, pr, "api")
    return [(before, after)] if after is not None and after != before else []


def resync(ctx: JobContext, scm: GitHubScm, status: ResyncStatus, now: float) -> Changed:
    """One full resync of every configured repository."""
    changed: Changed = []
    failed: list[str] = []
    closed: dict[tuple[str, int], PullRequest] = {}
    live = [p for p in ctx.store.list_previews() if p.state not in _GONE or p.allowed]
    streak = 0
    for repo in ctx.config.repositories:
        if streak >= MAX_FAILURE_STREAK:  # GitHub is down or limiting us: do not wait on every repository
            failed.append(repo.name)
            continue
        try:
            pulls, fresh = scm.list_open_pulls(repo.name)
        except PreviewdError as err:
            log.warning("resync %s: listing open PRs failed, nothing torn down: %s", repo.name, err.diagnostics())
            failed.append(repo.name)
            streak = MAX_FAILURE_STREAK if isinstance(err, TransientError) and err.retry_after else streak + 1
            continue
        streak = 0
        seen: set[int] = set()
        for body in pulls:
            pr = pull_request_from_api({**body, "base": {**body.get("base", {}),
                                                          "repo": {"full_name": repo.name}}})
            seen.add(pr.number)
            if fresh:  # a 304 list holds nothing new: its snapshots were applied before
                changed += _apply(ctx, pr)
        for preview in live:
            if preview.repo.lower() != repo.key or preview.number in seen:
                continue
            try:
                pr = replace(pull_request_from_api(scm.get_pull(repo.name, preview.number)), repo=repo.name)
            except PreviewdError as err:
                log.warning("resync %s#%d: not in the open list and the GET failed; kept: %s",
                            repo.name, preview.number, err.diagnostics())
                continue
            if pr.is_open:
                changed += _apply(ctx, pr)  # the list lagged behind: treat as any snapshot
            else:
                closed[(repo.name, pr.number)] = pr
    plan = plan_teardowns(list(closed), ctx.config.github.max_teardowns_per_resync)
    status.guard_blocked, status.guard_reason = plan.blocked, plan.reason
    status.blocked_teardowns = [f"{r}#{n}" for r, n in sorted(closed)] if plan.blocked else []
    if plan.blocked:
        log.error("mass-teardown guard: %s: %s", plan.reason, ", ".join(status.blocked_teardowns))
    for key in plan.teardown:
        changed += _apply(ctx, closed[key])
    status.runs += 1
    status.last_finished = now
    status.failed_repositories = failed
    return changed
