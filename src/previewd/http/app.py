"""The ASGI app, assembled from routers plus a lifespan that runs the worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from previewd import __version__
from previewd.http import (
    api,
    argocd_hooks,
    dashboard,
    health,
    registry_hooks,
    releases,
    status,
    webhooks,
)
from previewd.http.bodies import BodySlots
from previewd.http.rejections import RejectionLog
from previewd.runtime.service import Service

RouterFactory = Callable[[Service], APIRouter]
ROUTERS: list[RouterFactory] = [webhooks.router, registry_hooks.router, api.router, health.router,
                                releases.router, argocd_hooks.router, status.router, dashboard.router]
# Answers to a webhook that are not refusals of it: no such hook, wrong method.
NOT_REFUSALS = {404, 405}


def hook_source(request: Request) -> str | None:
    """``github``, ``argocd``, ``registry-<kind>`` for a webhook path, else None. Built from the
    route, never from the raw path (a registry may carry its token as a path segment)."""
    route = getattr(request.scope.get("route"), "path", "")
    if not route.startswith("/hooks/"):
        return None
    name = route.removeprefix("/hooks/").split("/")[0]
    kind = request.path_params.get("kind")
    return f"{name}-{kind}" if isinstance(kind, str) else name


def create_app(service: Service, run_worker: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(service.worker.run(stop)) if run_worker else None
        try:
            yield
        finally:
            stop.set()
            service.worker.wake()
            if task is not None:
                await task

    app = FastAPI(title="previewd", version=__version__, lifespan=lifespan)
    app.state.body_slots = BodySlots()
    rejections = RejectionLog()

    async def refused(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):  # registered for HTTPException only
            raise exc
        source = hook_source(request)
        if source is not None and exc.status_code >= 400 and exc.status_code not in NOT_REFUSALS:
            rejections.refused(source, exc.status_code, str(exc.detail),
                               request.headers.get("x-github-delivery"))
        return await http_exception_handler(request, exc)

    app.add_exception_handler(HTTPException, refused)
    for factory in ROUTERS:
        app.include_router(factory(service))
    return app
