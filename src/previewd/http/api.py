"""``GET /api/previews``: what previewd knows and decided about every PR."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from previewd.core.models import Preview
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
    }


def router(service: Service) -> APIRouter:
    api = APIRouter()

    @api.get("/api/previews")
    async def previews() -> dict[str, Any]:
        rows = await run_in_threadpool(service.store.list_previews)
        return {"previews": [preview_json(p) for p in rows]}

    return api
