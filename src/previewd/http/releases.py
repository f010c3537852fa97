"""Release API: ``GET /api/releases/pending``, ``GET /api/releases/conflicts`` and the
token-authenticated ``POST /api/releases/promote`` (the explicit promotion signal of manual environments)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from previewd.errors import PermanentError, TransientError
from previewd.http.bodies import parse_json_object, read_limited, verify_bearer
from previewd.jobs.releases import controller_of
from previewd.releases.controller import ReleaseController, UnknownEnvironment
from previewd.runtime.service import Service

MAX_PROMOTE_BODY = 16 * 1024


def router(service: Service) -> APIRouter:
    api = APIRouter()

    def controller() -> ReleaseController:
        found = controller_of(service.ctx)
        if found is None:
            raise HTTPException(404, "releases are not configured (no releases: section)")
        return found

    @api.get("/api/releases/pending")
    async def pending() -> dict[str, Any]:
        rows = await run_in_threadpool(controller().pending)
        return {"pending": [asdict(p) for p in rows]}

    @api.get("/api/releases/conflicts")
    async def conflicts() -> dict[str, Any]:
        return {"conflicts": await run_in_threadpool(controller().conflicts)}

    @api.post("/api/releases/promote")
    async def promote(request: Request) -> JSONResponse:
        ctl = controller()
        releases = service.config.releases
        token = releases.api_token if releases is not None else None
        if not verify_bearer(token.get_secret_value() if token else None,
                             request.headers.get("authorization")):
            raise HTTPException(401, "missing or invalid bearer token")
        body = parse_json_object(await read_limited(request, MAX_PROMOTE_BODY, authenticated=True))
        env, tag, digest = body.get("env"), body.get("tag"), body.get("digest")
        unknown = sorted(set(body) - {"env", "tag", "digest"})
        if unknown:
            raise HTTPException(400, f"unknown fields: {', '.join(unknown)}")
        if not isinstance(env, str) or not env:
            raise HTTPException(400, "env (the app-env directory in the state repository) is required")
        if (tag is None) == (digest is None) or not isinstance(tag or digest, str):
            raise HTTPException(400, "set exactly one of tag or digest (a string)")
        try:
            outcome = await run_in_threadpool(ctl.promote, env, tag, digest)
        except UnknownEnvironment as err:
            raise HTTPException(404, err.diagnostics()) from None
        except PermanentError as err:
            raise HTTPException(400, err.diagnostics()) from None
        except TransientError as err:
            raise HTTPException(503, err.diagnostics()) from None
        status = 409 if outcome.action == "conflict" else 200
        return JSONResponse(asdict(outcome), status)

    return api
