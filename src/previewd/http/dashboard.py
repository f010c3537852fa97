"""``GET /``: the dashboard."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from previewd import __version__
from previewd.core.render.dashboard import render_dashboard
from previewd.runtime.service import Service

# The page embeds nothing from elsewhere and runs no script; say so to the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def router(service: Service) -> APIRouter:
    api = APIRouter()

    @api.get("/", response_class=HTMLResponse)
    async def dashboard() -> HTMLResponse:
        previews = await run_in_threadpool(service.store.list_previews)
        page = render_dashboard(previews, service.config.github.web_url, __version__)
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    return api
