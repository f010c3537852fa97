"""``POST /hooks/argocd``: Argo CD Notifications deliveries. Bearer token, size limit, store, 202."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from previewd.http.bodies import read_json, verify_bearer
from previewd.runtime.service import Service

MAX_BODY = 64 * 1024  # the rendered template is a few hundred bytes


def router(service: Service) -> APIRouter:
    api = APIRouter()
    metrics = service.metrics.webhooks
    token = service.config.argocd.notifications_token

    @api.post("/hooks/argocd")
    async def argocd_hook(request: Request) -> JSONResponse:
        expected = token.get_secret_value() if token else None
        if not verify_bearer(expected, request.headers.get("authorization")):
            metrics.labels("argocd", "unauthorized").inc()
            raise HTTPException(401, "missing or invalid bearer token")
        _body, payload = await read_json(request, min(MAX_BODY, service.config.server.max_body_bytes),
                                         metrics, "argocd", authenticated=True)
        if not isinstance(payload.get("event"), str) or not isinstance(payload.get("application"), str):
            metrics.labels("argocd", "bad_request").inc()
            raise HTTPException(400, "expected event and application")
        # Argo CD sends no delivery id; each delivery is its own event (a repeated
        # "deployed" after a "degraded" must not be dropped as a duplicate).
        delivery = f"argocd-{uuid.uuid4()}"
        compact = json.dumps(payload, sort_keys=True).encode()
        await run_in_threadpool(service.store.add_event, "argocd", delivery, "notification", compact)
        metrics.labels("argocd", "accepted").inc()
        service.worker.wake()
        return JSONResponse({"status": "accepted", "delivery": delivery}, 202)

    return api
