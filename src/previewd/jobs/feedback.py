"""PR feedback: the sticky comment, the GitHub Deployment and the ``previewd`` commit status.

The observer only marks a PR's feedback pending (durably); ``publish_feedback`` later computes
the desired feedback from the current preview record and makes the calls that differ from
what was last published. A failed call leaves the PR pending with a backoff, so feedback is
retried and never blocks the GitOps work.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from previewd.adapters.scm.github import GitHubScm
from previewd.adapters.store.github_state import FeedbackRow, GithubState
from previewd.config import Config
from previewd.core import feedback as fb
from previewd.core.backoff import backoff_delay
from previewd.core.models import Preview, PreviewState
from previewd.errors import PermanentError, TransientError

log = logging.getLogger("previewd.feedback")

MAX_ATTEMPTS = 12
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 600.0


class FeedbackObserver:
    """Marks the PR's feedback pending whenever its preview record changed."""

    def __init__(self, state: GithubState) -> None:
        self.state = state

    def preview_changed(self, before: Preview | None, after: Preview) -> None:
        if before is None or before != after:
            self.state.mark_pending(after.repo, after.number)


def facts_for(config: Config, state: GithubState, preview: Preview) -> fb.FeedbackFacts:
    repo = config.repository(preview.repo)
    labels = list(repo.trigger.labels) if repo else []
    findings: tuple[str, ...] = ()
    if preview.state == PreviewState.FAILED and preview.head_sha:
        verdict = state.bundle_verdict(preview.repo, preview.head_sha)
        findings = tuple(verdict[1]) if verdict else ()
    return fb.FeedbackFacts(label_mode=bool(labels), label=labels[0] if labels else None,
                            argocd_url=config.argocd.url, findings=findings)


def publish_one(config: Config, scm: GitHubScm, state: GithubState, preview: Preview,
                published: dict[str, Any]) -> None:
    """Bring the PR's feedback to the desired state; records progress in ``published`` as it goes."""
    repo, number = preview.repo, preview.number
    facts = facts_for(config, state, preview)
    want = fb.desired(preview, facts, "comment_id" in published)
    if want.comment is not None:
        digest = hashlib.sha256(want.comment.encode()).hexdigest()
        if published.get("comment_hash") != digest:
            comment_id = published.get("comment_id")
            if comment_id is None:  # a crash after creating it must not make a second one
                comment_id = scm.find_comment(repo, number, fb.marker(repo, number))
            if comment_id is None:
                published["comment_id"] = scm.create_comment(repo, number, want.comment)
            else:
                published["comment_id"] = comment_id
                scm.update_comment(repo, int(comment_id), want.comment)
            published["comment_hash"] = digest
    target = want.deployment
    if target is not None:
        key = f"{target.sha}:{preview.extra.get('redeploys', 0)}"
        deployment: dict[str, Any] = published.get("deployment") or {}
        if deployment.get("key") != key and target.state != "inactive":
            dep_id = scm.create_deployment(repo, target.sha, fb.environment(number), "previewd preview")
            deployment = {"id": dep_id, "key": key, "states": []}
            published["deployment"] = deployment
        states: list[str] = deployment.get("states", [])
        if deployment.get("id") and (not states or states[-1] != target.state):
            link = fb.argocd_link(facts, preview)
            sequence = [target.state]
            if target.state in ("success", "failure") and "in_progress" not in states:
                sequence.insert(0, "in_progress")  # statuses always read in_progress -> outcome
            for step in sequence:
                scm.create_deployment_status(repo, int(deployment["id"]), step,
                                             target.description if step == target.state else "deploying",
                                             target.environment_url if step == target.state else None, link)
                states.append(step)
                deployment["states"] = states
    status = want.status
    if status is not None:
        wanted = [status.sha, status.state, status.description]
        if published.get("status") != wanted:
            scm.create_commit_status(repo, status.sha, status.state, status.description,
                                     fb.url_of(preview) if status.state == "success" else
                                     fb.argocd_link(facts, preview), fb.STATUS_CONTEXT)
            published["status"] = wanted


def publish_feedback(config: Config, store_get: Callable[[str, int], Preview | None], scm: GitHubScm,
                     state: GithubState, now: float, budget: float = 5.0,
                     clock: Callable[[], float] = time.monotonic) -> int:
    """Publish due PRs' feedback; returns how many PRs were brought up to date.

    Stops at the first transient failure (GitHub is likely down or limiting us) or when
    ``budget`` seconds are spent, so feedback never holds the worker from GitOps for long.
    """
    done = 0
    deadline = clock() + budget
    for row in state.due(now):
        if clock() > deadline:
            break
        preview = store_get(row.repo, row.number)
        published = dict(row.published)
        if preview is None or config.repository(preview.repo) is None:
            state.save_published(row, published, done=True)
            continue
        try:
            publish_one(config, scm, state, preview, published)
        except TransientError as err:
            _retry(state, row, published, now, err.retry_after, err.diagnostics())
            break
        except PermanentError as err:
            log.warning("%s#%d: feedback failed: %s", row.repo, row.number, err.diagnostics())
            _retry(state, row, published, now, None, err.diagnostics())
            continue
        state.save_published(row, published, done=True)
        done += 1
    return done


def _retry(state: GithubState, row: FeedbackRow, published: dict[str, Any], now: float,
           retry_after: float | None, error: str) -> None:
    if row.attempts + 1 >= MAX_ATTEMPTS:
        log.error("%s#%d: giving up on feedback after %d attempts: %s", row.repo, row.number,
                  row.attempts + 1, error)
        state.save_published(row, published, done=True, error=error)
        return
    delay = backoff_delay(row.attempts + 1, retry_after, first=FIRST_BACKOFF, cap=MAX_BACKOFF)
    log.info("%s#%d: feedback will be retried in %.0fs: %s", row.repo, row.number, delay, error)
    state.save_published(row, published, done=False, next_attempt=now + delay, error=error)
