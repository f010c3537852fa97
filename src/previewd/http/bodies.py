"""Reading webhook bodies safely: size limit before anything else, then JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from prometheus_client import Counter


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, or 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body exceeds {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body exceeds {limit} bytes")
    return bytes(body)


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256: sha256=<hex>``."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def verify_bearer(expected: str | None, header: str | None) -> bool:
    """Constant-time check of ``Authorization: Bearer <token>``; no token configured → deny."""
    if not expected or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(expected.encode(), header.removeprefix("Bearer ").encode())


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or 400."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "expected a JSON object")
    return data


async def read_json(request: Request, limit: int, counter: Counter, source: str,
                    check: Callable[[bytes], None] | None = None) -> tuple[bytes, dict[str, Any]]:
    """A webhook body: the raw bytes and the JSON object they hold, or 413/400.

    Refusals are counted in ``counter`` as ``(source, "too_large")`` and
    ``(source, "bad_request")``. ``check`` sees the raw bytes before they are parsed (a
    signature covers the exact bytes) and raises to refuse them.
    """
    try:
        body = await read_limited(request, limit)
    except HTTPException:
        counter.labels(source, "too_large").inc()
        raise
    if check is not None:
        check(body)
    try:
        return body, parse_json_object(body)
    except HTTPException:
        counter.labels(source, "bad_request").inc()
        raise
