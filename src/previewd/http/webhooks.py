"""``POST /hooks/github``: verify, store durably, answer 202. Processing is asynchronous.

Only events previewd has an intake handler for, about a configured repository (package events:
about an image a preview or the release controller may claim), are stored;
everything else is answered 200 "ignored" so GitHub's other deliveries never fill the queue.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from previewd.core.limits import MAX_DELIVERY_ID_CHARS
from previewd.core.values import is_delivery_id
from previewd.errors import PermanentError
from previewd.http.bodies import read_json, verify_github_signature
from previewd.jobs.intake import ROUTES, wanted
from previewd.runtime.service import Service


def router(service: Service) -> APIRouter:
    api = APIRouter()
    metrics = service.metrics.webhooks

    @api.post("/hooks/github")
    async def github_hook(request: Request) -> JSONResponse:
        def signed(body: bytes) -> None:
            signature = request.headers.get("x-hub-signature-256")
            if not verify_github_signature(service.webhook_secret, body, signature):
                metrics.labels("github", "unauthorized").inc()
                raise HTTPException(401, "missing or invalid X-Hub-Signature-256")

        body, payload = await read_json(request, service.config.server.max_body_bytes, metrics, "github",
                                        authenticated=False, check=signed)
        kind = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery", "")
        if not kind or not delivery:
            metrics.labels("github", "bad_request").inc()
            raise HTTPException(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
        if not is_delivery_id(delivery):
            metrics.labels("github", "bad_request").inc()
            raise HTTPException(400, f"X-GitHub-Delivery must be 1 to {MAX_DELIVERY_ID_CHARS} "
                                     "characters of A-Z a-z 0-9 . _ : -")
        if kind == "ping":
            metrics.labels("github", "ping").inc()
            return JSONResponse({"status": "pong"}, 200)
        route = ROUTES.get(("github", kind))
        if route is None:
            metrics.labels("github", "ignored").inc()
            return JSONResponse({"status": "ignored", "reason": "event kind not handled"}, 200)
        if not wanted(service.config, kind, payload):
            metrics.labels("github", "ignored").inc()
            return JSONResponse({"status": "ignored", "reason": "repository not configured"}, 200)
        try:
            if route.check is not None:
                route.check(payload, datetime.now(UTC))
        except PermanentError as err:
            metrics.labels("github", "bad_request").inc()
            raise HTTPException(400, str(err)) from None
        fresh = await run_in_threadpool(service.store.add_event, "github", delivery, kind, body)
        if not fresh:
            metrics.labels("github", "duplicate").inc()
            return JSONResponse({"status": "duplicate", "delivery": delivery}, 200)
        metrics.labels("github", "accepted").inc()
        service.worker.wake()
        return JSONResponse({"status": "accepted", "delivery": delivery}, 202)

    return api
