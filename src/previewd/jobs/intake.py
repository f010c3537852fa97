"""Turn stored events into preview record updates. One handler per (source, event kind)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from previewd.config import Config
from previewd.core.events import parse_pull_request_event, repository_of
from previewd.core.registry_formats import github_package
from previewd.jobs import argocd_status, chatops, registry_intake
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.pull_requests import apply_snapshot
from previewd.jobs.registry_intake import Handler

log = logging.getLogger("previewd.intake")


def on_pull_request(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
    action, pr = parse_pull_request_event(payload, datetime.now(UTC))
    before, after = apply_snapshot(ctx.config, ctx.store, conn, pr, action)
    return [(before, after)] if after is not None else []


HANDLERS: dict[tuple[str, str], Handler] = {
    ("github", "pull_request"): on_pull_request,
    ("github", "issue_comment"): chatops.on_issue_comment,
    ("argocd", "notification"): argocd_status.on_notification,
    **registry_intake.GITHUB_HANDLERS,
    **registry_intake.REGISTRY_HANDLERS,
}


def wanted(config: Config, kind: str, payload: dict[str, Any]) -> bool:
    """Whether a GitHub event of a handled ``kind`` is worth storing: about a configured
    repository, or (package events) about an image a consumer claims."""
    if kind in github_package.EVENT_KINDS:
        return registry_intake.wanted_github_package(config, kind, payload)
    repo = repository_of(payload)
    return repo is not None and config.repository(repo) is not None


def decode(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("event body is not a JSON object")
    return data
