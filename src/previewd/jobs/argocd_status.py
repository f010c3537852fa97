"""Argo CD Notifications deliveries -> preview state (ready, degraded, failed)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from previewd.core.models import PreviewState
from previewd.errors import PermanentError
from previewd.jobs.context import Changed, JobContext

log = logging.getLogger("previewd.argocd")

# The ``event`` field written by the templates ``previewd bootstrap`` renders.
EVENT_STATES = {
    "deployed": PreviewState.READY,
    "health-degraded": PreviewState.DEGRADED,
    "sync-failed": PreviewState.FAILED,
}
_REPORTABLE = (PreviewState.DEPLOYING, PreviewState.READY, PreviewState.DEGRADED, PreviewState.FAILED)


def on_notification(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
    event, app, sha = payload.get("event"), payload.get("application"), payload.get("revision")
    if event not in EVENT_STATES or not isinstance(app, str) or not isinstance(sha, str):
        raise PermanentError("Argo CD notification needs event, application and revision")
    preview = ctx.store.preview_by_namespace(conn, app)  # the Application is named like its namespace
    if preview is None:
        log.info("Argo CD %s for unknown application %s ignored", event, app)
        return []
    if not preview.allowed or preview.deployed_sha != sha or preview.state not in _REPORTABLE:
        log.info("%s#%d: stale Argo CD %s for %s ignored (state %s, deployed %s)", preview.repo,
                 preview.number, event, sha[:12], preview.state.value, (preview.deployed_sha or "-")[:12])
        return []
    state = EVENT_STATES[event]
    if state == preview.state:
        return []
    after = replace(preview, state=state)
    ctx.store.put_preview(conn, after)
    log.info("%s#%d: Argo CD reports %s -> %s", preview.repo, preview.number, event, state.value)
    return [(preview, after)]
