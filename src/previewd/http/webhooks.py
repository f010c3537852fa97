"""``POST /hooks/github``: verify, store durably, answer 202. Processing is asynchronous."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from previewd.core.events import repository_of
from previewd.http.bodies import parse_json_object, read_limited, verify_github_signature
from previewd.runtime.service import Service

# Events that concern previewd as a whole rather than one configured repository.
GLOBAL_EVENTS = frozenset({"installation", "installation_repositories", "github_app_authorization"})


def router(service: Service) -> APIRouter:
    api = APIRouter()
    metrics = service.metrics.webhooks

    @api.post("/hooks/github")
    async def github_hook(request: Request) -> JSONResponse:
        try:
            body = await read_limited(request, service.config.server.max_body_bytes)
        except HTTPException:
            metrics.labels("github", "too_large").inc()
            raise
        signature = request.headers.get("x-hub-signature-256")
        if not verify_github_signature(service.webhook_secret, body, signature):
            metrics.labels("github", "unauthorized").inc()
            raise HTTPException(401, "missing or invalid X-Hub-Signature-256")
        payload = parse_json_object(body)
        kind = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery", "")
        if not kind or not delivery:
            metrics.labels("github", "bad_request").inc()
            raise HTTPException(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
        if kind == "ping":
            metrics.labels("github", "ping").inc()
            return JSONResponse({"status": "pong"}, 200)
        repo = repository_of(payload)
        if kind not in GLOBAL_EVENTS and (repo is None or service.config.repository(repo) is None):
            metrics.labels("github", "ignored").inc()
            return JSONResponse({"status": "ignored", "reason": "repository not configured"}, 200)
        fresh = await run_in_threadpool(service.store.add_event, "github", delivery, kind, body)
        if not fresh:
            metrics.labels("github", "duplicate").inc()
            return JSONResponse({"status": "duplicate", "delivery": delivery}, 200)
        metrics.labels("github", "accepted").inc()
        service.worker.wake()
        return JSONResponse({"status": "accepted", "delivery": delivery}, 202)

    return api
