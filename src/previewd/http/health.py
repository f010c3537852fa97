"""Liveness, readiness and metrics.

``/readyz`` is 503 when the store cannot be read, or when GitOps writes have kept failing for
``gitops.unready_after``; the body says why. While writes are retried within that time it is
200 with ``"gitops": "retrying"`` and the last error.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from previewd.runtime.service import Service


def router(service: Service) -> APIRouter:
    api = APIRouter()

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            await run_in_threadpool(service.store.pending_events, 1)
        except Exception as err:  # readiness reports any store failure as not ready
            return JSONResponse({"status": "not ready", "store": repr(err)}, 503)
        worker = service.worker
        reason = worker.not_ready_reason(time.monotonic())
        if reason is not None:
            return JSONResponse({"status": "not ready", "gitops": "failing", "reason": reason,
                                 "gitops_error": worker.last_error}, 503)
        body = {"status": "ready", "gitops": "ok" if worker.healthy else "retrying"}
        if worker.last_error:
            body["gitops_error"] = worker.last_error
        return JSONResponse(body, 200)

    @api.get("/metrics")
    async def metrics() -> Response:
        await run_in_threadpool(service.refresh_gauges)
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return api
