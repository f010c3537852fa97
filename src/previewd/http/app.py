"""The ASGI app, assembled from routers plus a lifespan that runs the worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, FastAPI

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
from previewd.runtime.service import Service

RouterFactory = Callable[[Service], APIRouter]
ROUTERS: list[RouterFactory] = [webhooks.router, registry_hooks.router, api.router, health.router,
                                releases.router, argocd_hooks.router, status.router, dashboard.router]


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
    for factory in ROUTERS:
        app.include_router(factory(service))
    return app
