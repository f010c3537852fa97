"""Turn stored events into preview record updates. One handler per (source, event kind)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from previewd.core.events import parse_pull_request_event
from previewd.jobs import argocd_status, chatops, registry_intake
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.pull_requests import apply_snapshot

log = logging.getLogger("previewd.intake")

Handler = Callable[[JobContext, Connection, dict[str, Any]], Changed]


def on_pull_request(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
    action, pr = parse_pull_request_event(payload)
    before, after = apply_snapshot(ctx.config, ctx.store, conn, pr, action)
    return [(before, after)] if after is not None else []


HANDLERS: dict[tuple[str, str], Handler] = {
    ("github", "pull_request"): on_pull_request,
    ("github", "issue_comment"): chatops.on_issue_comment,
    ("argocd", "notification"): argocd_status.on_notification,
    ("github", "package"): registry_intake.on_github_package,
    ("github", "registry_package"): registry_intake.on_github_registry_package,
    ("registry", "distribution"): registry_intake.on_distribution,
    ("registry", "harbor"): registry_intake.on_harbor,
}


def decode(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("event body is not a JSON object")
    return data
