"""Liveness, readiness and metrics."""

from __future__ import annotations

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
        body = {"status": "ready", "gitops": "ok" if service.worker.healthy else "retrying"}
        if service.worker.last_error:
            body["gitops_error"] = service.worker.last_error
        return JSONResponse(body, 200)

    @api.get("/metrics")
    async def metrics() -> Response:
        await run_in_threadpool(service.refresh_gauges)
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return api
