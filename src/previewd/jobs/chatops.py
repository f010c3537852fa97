"""ChatOps: ``/preview``, ``/preview stop``, ``/preview redeploy`` in PR comments.

The webhook handler only records a parsed command (inside the intake transaction, no I/O);
``run_commands`` checks the author's permission through the API, acknowledges with a
reaction, refuses politely or applies the command to the preview record.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from previewd.adapters.scm.github import GitHubScm
from previewd.adapters.store.github_state import GithubState
from previewd.core.chatops import Command, may_run, parse_command, refusal
from previewd.core.events import pull_request_from_api, repository_of
from previewd.core.limits import PR_NUMBER_MAX, PR_NUMBER_MIN
from previewd.core.models import PreviewState
from previewd.errors import PermanentError, TransientError
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.pull_requests import apply_snapshot

log = logging.getLogger("previewd.chatops")

MAX_ATTEMPTS = 10


def _state(ctx: JobContext) -> GithubState | None:
    """The GitHub state of the wired GitHub runtime (``ctx.adapters["github"]``), if any."""
    state = getattr(ctx.adapters.get("github"), "state", None)
    return state if isinstance(state, GithubState) else None


def on_issue_comment(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
    """Intake handler for ``issue_comment``: record a command, nothing else."""
    state = _state(ctx)
    if state is None or payload.get("action") != "created":
        return []
    issue, comment = payload.get("issue") or {}, payload.get("comment") or {}
    repo = repository_of(payload)
    user = comment.get("user") or {}
    if not isinstance(issue, dict) or "pull_request" not in issue or repo is None:
        return []
    command = parse_command(str(comment.get("body") or ""))
    if command is None or user.get("type") == "Bot":
        return []
    config_repo = ctx.config.repository(repo)
    if config_repo is None:
        return []
    number = issue.get("number")
    if type(number) is not int or not PR_NUMBER_MIN <= number <= PR_NUMBER_MAX:
        raise PermanentError(f"issue_comment: issue.number must be an integer {PR_NUMBER_MIN}..{PR_NUMBER_MAX}")
    state.add_command(conn, config_repo.name, number, int(comment["id"]),
                      str(user.get("login", "")), command.value)
    log.info("%s#%s: %s from %s queued", repo, issue["number"], command.value, user.get("login"))
    return []


def run_commands(ctx: JobContext, scm: GitHubScm, state: GithubState) -> Changed:
    changed: Changed = []
    for row in state.pending_commands():
        try:
            permission, role = scm.permission(row.repo, row.login)
            if not may_run(permission, role):
                scm.add_reaction(row.repo, row.comment_id, "confused")
                scm.create_comment(row.repo, row.number, refusal(row.login))
                with ctx.store.transaction() as conn:
                    state.finish_command(conn, row.id)
                log.info("%s#%d: refused %s from %s (permission %s)", row.repo, row.number,
                         row.command, row.login, permission)
                continue
            scm.add_reaction(row.repo, row.comment_id, "+1")
            pr = replace(pull_request_from_api(scm.get_pull(row.repo, row.number), datetime.now(UTC)),
                         repo=row.repo)
            command = Command(row.command)
            if command == Command.REDEPLOY:
                state.forget_verdict(row.repo, pr.head_sha)  # the bundle is checked again
            with ctx.store.transaction() as conn:
                requested = {Command.START: True, Command.STOP: False}.get(command)
                before, after = apply_snapshot(ctx.config, ctx.store, conn, pr, "api", requested=requested)
                if command == Command.REDEPLOY:
                    current = after or ctx.store.get_preview(row.repo, row.number, conn)
                    if current is not None and current.allowed and current.head_sha:
                        after = replace(current, generation=current.generation + 1, state=PreviewState.PENDING,
                                        extra={**current.extra,
                                               "redeploys": int(current.extra.get("redeploys", 0)) + 1})
                        ctx.store.put_preview(conn, after)
                state.finish_command(conn, row.id)
            if after is not None:
                changed.append((before, after))
        except TransientError as err:
            give_up = row.attempts + 1 >= MAX_ATTEMPTS
            log.warning("%s#%d: %s failed%s: %s", row.repo, row.number, row.command,
                        "; giving up" if give_up else "; will retry", err.diagnostics())
            state.fail_command(row, give_up)
            if err.retry_after:
                break  # rate limited: the rest waits for the next run
        except PermanentError as err:
            log.warning("%s#%d: %s rejected: %s", row.repo, row.number, row.command, err.diagnostics())
            state.fail_command(row, give_up=True)
    return changed
