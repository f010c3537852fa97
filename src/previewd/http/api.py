"""``GET /api/previews``: what previewd knows and decided about every PR."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from previewd.core.models import IMAGE_WAIT_KEY, RENDER_ERROR_KEY, TAG_CLEANUP_KEY, Preview, PreviewState
from previewd.core.values import printable_tree
from previewd.runtime.service import Service


def preview_json(p: Preview) -> dict[str, Any]:
    return {
        "repository": p.repo,
        "number": p.number,
        "state": p.state.value,
        "namespace": p.namespace,
        "head_sha": p.head_sha,
        "deployed_sha": p.deployed_sha,
        "host": p.host,
        "decision": {"allowed": p.allowed, "reason": p.reason, "code": p.reason_code},
        "synced": not p.dirty,
        "image_wait": image_wait_json(p),
        "tag_cleanup": p.extra.get(TAG_CLEANUP_KEY),
        "error": p.extra.get(RENDER_ERROR_KEY) if p.state == PreviewState.FAILED else None,
    }


def image_wait_json(p: Preview) -> dict[str, Any] | None:
    """What a waiting (or timed-out) preview waits for: ``image:tag``, since when, last error."""
    wait = p.extra.get(IMAGE_WAIT_KEY)
    if not wait or p.state not in (PreviewState.WAITING_FOR_IMAGE, PreviewState.FAILED):
        return None
    since = wait.get("since")
    return {
        "missing": wait.get("missing"),
        "since": datetime.fromtimestamp(since, UTC).isoformat() if since else None,
        "failed": bool(wait.get("failed")),
        "error": wait.get("error"),
    }


def router(service: Service) -> APIRouter:
    api = APIRouter()

    @api.get("/api/previews")
    async def previews() -> dict[str, Any]:
        rows = await run_in_threadpool(service.store.list_previews)
        # Render whatever is stored: a value no longer valid (written before intake checked it)
        # is shown with U+FFFD for what UTF-8 cannot encode, never a 500 for everyone.
        return {"previews": [printable_tree(preview_json(p)) for p in rows]}

    return api
