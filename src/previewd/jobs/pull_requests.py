"""Apply a PR snapshot to its preview record: order check, policy decision, next state."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from previewd.adapters.store.sql import Store
from previewd.config import Config, RepositoryConfig
from previewd.core.models import Preview, PullRequest
from previewd.core.ordering import supersedes
from previewd.core.planning import next_preview
from previewd.core.policy import Trigger, decide
from previewd.core.render.preview import names_for

log = logging.getLogger("previewd.pull_requests")


def trigger_of(repo: RepositoryConfig) -> Trigger:
    t = repo.trigger
    return Trigger(tuple(t.labels), tuple(t.exclude_labels), t.drafts, t.forks, t.bots)


def plan_snapshot(
    config: Config,
    store: Store,
    conn: Connection,
    pr: PullRequest,
    action: str,
    requested: bool | None = None,
) -> tuple[Preview | None, Preview | None]:
    """What recording ``pr`` would do, without writing: (before, after), after None if ignored."""
    repo = config.repository(pr.repo)
    if repo is None:
        return None, None
    before = store.get_preview(repo.name, pr.number, conn)
    if before is not None and before.pr is not None and \
            not supersedes(pr, before.pr, action, datetime.now(UTC)):
        log.info("%s#%d: ignoring stale %s event (updated_at %s < %s or PR closed)",
                 repo.name, pr.number, action, pr.updated_at, before.pr.updated_at)
        return before, None
    # ``requested`` in extra: True after ``/preview``, False after ``/preview stop``, absent if neither.
    wanted = before.extra.get("requested") if before and requested is None else requested
    decision = decide(pr, trigger_of(repo), requested=wanted is True, stopped=wanted is False)
    names = names_for(config, repo, pr.number)
    # Keep the configured spelling of the repository, whatever case the payload used.
    pr = replace(pr, repo=repo.name)
    after = next_preview(before, pr, decision, names.namespace, names.host)
    if requested is not None:
        after = replace(after, extra={**after.extra, "requested": requested})
    return before, after


def apply_snapshot(
    config: Config,
    store: Store,
    conn: Connection,
    pr: PullRequest,
    action: str,
    requested: bool | None = None,
) -> tuple[Preview | None, Preview | None]:
    """Record ``pr`` (from a webhook or the API); returns (before, after), after None if ignored."""
    before, after = plan_snapshot(config, store, conn, pr, action, requested)
    if after is None:
        return before, None
    store.put_preview(conn, after)
    log.info("%s#%d: %s (%s) -> %s", after.repo, after.number,
             "preview" if after.allowed else "no preview", after.reason, after.state.value)
    return before, after
