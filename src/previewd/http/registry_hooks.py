"""``POST /hooks/registry/<kind>[/<token>]``: authorise, parse, store durably, answer 202.

The token identifies the configured registry (each has its own ``notifications_token``). It
comes as ``Authorization: Bearer <token>`` or, for registries that cannot send headers (Quay,
Docker Hub), as the last path segment; either way it is compared in constant time and never
logged (the access log shows ``/hooks/registry/<kind>/***``). A body that is not in the kind's
format is answered 400 with the reason; a well-formed notification without a tagged manifest
push (pulls, blob uploads, untagged platform manifests) 200 and not stored, so a registry's
chatter never fills the queue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from previewd.core.registry_events import FormatError, Parser
from previewd.http.bodies import constant_time_equal, read_json
from previewd.jobs.intake import ROUTES, check_routes
from previewd.runtime.service import Service

SOURCE = "registry"  # the stored events' source; the worker's handlers are keyed by it
PREFIX = "/hooks/registry"
# The hook's parsers, as registered with their handlers in the one routing table.
PARSERS: dict[str, Parser] = {kind: route.parse for (source, kind), route in ROUTES.items()
                              if source == SOURCE and route.parse is not None}
_PATH_TOKEN = re.compile(rf"({re.escape(PREFIX)}/[^/?#\s\"]+/)[^?#\s\"]+")
REDACTED = "***"


def scrub(text: str) -> str:
    """``text`` with every token carried in a registry hook path replaced by ``***``."""
    return _PATH_TOKEN.sub(rf"\g<1>{REDACTED}", text)


class TokenScrubber(logging.Filter):
    """Keeps path tokens out of log lines (uvicorn's access log prints the request path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and PREFIX in record.msg:
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) and PREFIX in a else a
                                for a in record.args)
        return True


def install_scrubber(*loggers: str) -> None:
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenScrubber) for f in logger.filters):
            logger.addFilter(TokenScrubber())


def router(service: Service) -> APIRouter:
    check_routes(ROUTES)
    install_scrubber("uvicorn.access", "uvicorn.error", "previewd")
    api = APIRouter()
    metrics = service.metrics.webhooks

    def registry_for(token: str | None) -> str | None:
        """The host whose token matches; every token is compared (constant time each)."""
        found = None
        for registry in service.config.registries:
            secret = registry.notifications_token
            expected = secret.get_secret_value() if secret else ""
            if expected and token is not None and constant_time_equal(expected, token):
                found = registry.host
        return found

    def presented(request: Request, path_token: str | None) -> str | None:
        if path_token is not None:
            return path_token
        header = request.headers.get("authorization")
        return header.removeprefix("Bearer ") if header and header.startswith("Bearer ") else None

    async def registry_hook(kind: str, request: Request, token: str | None = None) -> JSONResponse:
        hook = PARSERS.get(kind)
        if hook is None:
            raise HTTPException(404, f"unknown registry kind; expected one of {sorted(PARSERS)}")
        source = f"{SOURCE}-{kind}"
        host = registry_for(presented(request, token))
        if host is None:
            metrics.labels(source, "unauthorized").inc()
            raise HTTPException(401, "missing or invalid bearer token")
        body, payload = await read_json(request, service.config.server.max_body_bytes, metrics, source,
                                        authenticated=True)
        try:
            pushes = hook(payload, host)
        except FormatError as err:
            metrics.labels(source, "bad_request").inc()
            raise HTTPException(400, str(err)) from None
        if not pushes:
            metrics.labels(source, "ignored").inc()
            return JSONResponse({"status": "ignored", "reason": "no tagged manifest push"}, 200)
        # Registries retry the same envelope on failure: its hash makes redelivery a no-op.
        delivery = hashlib.sha256(host.encode() + b"\n" + body).hexdigest()
        stored = json.dumps({"registry": host, "payload": payload}).encode()
        fresh = await run_in_threadpool(service.store.add_event, SOURCE, delivery, kind, stored)
        if not fresh:
            metrics.labels(source, "duplicate").inc()
            return JSONResponse({"status": "duplicate", "delivery": delivery}, 200)
        metrics.labels(source, "accepted").inc()
        service.worker.wake()
        return JSONResponse({"status": "accepted", "delivery": delivery}, 202)

    api.add_api_route(PREFIX + "/{kind}", registry_hook, methods=["POST"])
    api.add_api_route(PREFIX + "/{kind}/{token}", registry_hook, methods=["POST"])
    return api
