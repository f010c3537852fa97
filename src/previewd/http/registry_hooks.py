"""``POST /hooks/registry/{distribution,harbor}``: authorise, store durably, answer 202.

The bearer token identifies the configured registry (each has its own ``notifications_token``).
Notifications without a tagged manifest push (pulls, blob uploads, untagged platform
manifests) are answered 200 and not stored, so a registry's chatter never fills the queue.
"""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from previewd.core.registry_events import parse_distribution, parse_harbor
from previewd.http.bodies import read_json, verify_bearer
from previewd.runtime.service import Service

PARSERS = {"distribution": parse_distribution, "harbor": parse_harbor}


def router(service: Service) -> APIRouter:
    api = APIRouter()
    metrics = service.metrics.webhooks

    def registry_for(header: str | None) -> str | None:
        """The host whose token matches; every token is compared (constant time each)."""
        found = None
        for registry in service.config.registries:
            token = registry.notifications_token
            if verify_bearer(token.get_secret_value() if token else None, header):
                found = registry.host
        return found

    @api.post("/hooks/registry/{kind}")
    async def registry_hook(kind: str, request: Request) -> JSONResponse:
        parse = PARSERS.get(kind)
        if parse is None:
            raise HTTPException(404, f"unknown registry kind; expected one of {sorted(PARSERS)}")
        source = f"registry-{kind}"
        host = registry_for(request.headers.get("authorization"))
        if host is None:
            metrics.labels(source, "unauthorized").inc()
            raise HTTPException(401, "missing or invalid bearer token")
        body, payload = await read_json(request, service.config.server.max_body_bytes, metrics, source,
                                        authenticated=True)
        if not parse(payload, host):
            metrics.labels(source, "ignored").inc()
            return JSONResponse({"status": "ignored", "reason": "no tagged manifest push"}, 200)
        # Registries retry the same envelope on failure: its hash makes redelivery a no-op.
        delivery = hashlib.sha256(host.encode() + b"\n" + body).hexdigest()
        stored = json.dumps({"registry": host, "payload": payload}).encode()
        fresh = await run_in_threadpool(service.store.add_event, "registry", delivery, kind, stored)
        if not fresh:
            metrics.labels(source, "duplicate").inc()
            return JSONResponse({"status": "duplicate", "delivery": delivery}, 200)
        metrics.labels(source, "accepted").inc()
        service.worker.wake()
        return JSONResponse({"status": "accepted", "delivery": delivery}, 202)

    return api
