"""``GET /api/status``: GitHub rate limit, resync and mass-teardown guard, worker health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from previewd.runtime.github_wiring import GithubRuntime
from previewd.runtime.service import Service


def router(service: Service) -> APIRouter:
    api = APIRouter()

    def snapshot() -> dict[str, Any]:
        runtime = service.ctx.adapters.get("github")
        github = (runtime.status_json() if isinstance(runtime, GithubRuntime)
                  else {"configured": False})
        return {"github": github,
                "worker": {"healthy": service.worker.healthy, "last_error": service.worker.last_error}}

    @api.get("/api/status")
    async def status() -> dict[str, Any]:
        return await run_in_threadpool(snapshot)

    return api
