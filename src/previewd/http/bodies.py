"""Reading request bodies safely: bounded in size, time and concurrency before anything else,
then JSON bounded in depth; constant-time credential checks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

from fastapi import HTTPException, Request
from prometheus_client import Counter
from starlette.requests import ClientDisconnect

from previewd.http.limits import (
    BODY_READ_TIMEOUT,
    MAX_JSON_DEPTH,
    MAX_UNAUTHENTICATED_BODIES,
    RETRY_AFTER_SECONDS,
)

# A refusal sent before the body was read in full: the rest of it must not be waited for.
CLOSE = {"Connection": "close"}
# Status of a body refusal -> the outcome it is counted as.
OUTCOMES = {400: "bad_request", 408: "timeout", 413: "too_large", 503: "busy"}


class BodySlots:
    """At most ``size`` unauthenticated bodies read at once; one more is refused, not queued."""

    def __init__(self, size: int = MAX_UNAUTHENTICATED_BODIES) -> None:
        self.free = size

    @contextlib.contextmanager
    def claim(self) -> Iterator[None]:
        # One event loop runs every request, so a plain counter cannot race.
        if self.free <= 0:
            raise HTTPException(503, "too many webhook bodies in flight; retry later",
                                headers={**CLOSE, "Retry-After": str(RETRY_AFTER_SECONDS)})
        self.free -= 1
        try:
            yield
        finally:
            self.free += 1


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"body exceeds {limit} bytes", headers=CLOSE)


async def read_limited(request: Request, limit: int, *, authenticated: bool) -> bytes:
    """The raw body, or 413 (a declared or actual size over ``limit``, refused as soon as it is
    known), 408 (not received within ``BODY_READ_TIMEOUT``) or, for a sender not yet
    authenticated, 503 when ``MAX_UNAUTHENTICATED_BODIES`` are already being read."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    slots: BodySlots = request.app.state.body_slots
    chunks: list[bytes] = []
    size = 0
    with contextlib.nullcontext() if authenticated else slots.claim():
        try:
            async with asyncio.timeout(BODY_READ_TIMEOUT):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_large(limit)
                    chunks.append(chunk)
        except TimeoutError:
            raise HTTPException(408, f"body not received within {BODY_READ_TIMEOUT:g} s",
                                headers=CLOSE) from None
        except ClientDisconnect:
            raise HTTPException(400, "client disconnected before the body ended") from None
    return b"".join(chunks)


def constant_time_equal(expected: str, given: str) -> bool:
    """``expected == given`` in constant time, for any text (``hmac.compare_digest`` refuses
    non-ASCII ``str``; headers decode as Latin-1 and paths may hold anything)."""
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                               given.encode("utf-8", "surrogatepass"))


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256: sha256=<hex>``."""
    if not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode("utf-8", "surrogatepass"), body, hashlib.sha256).hexdigest()
    return constant_time_equal(expected, header)


def verify_bearer(expected: str | None, header: str | None) -> bool:
    """Constant-time check of ``Authorization: Bearer <token>``; no token configured → deny."""
    if not expected or not header or not header.startswith("Bearer "):
        return False
    return constant_time_equal(expected, header.removeprefix("Bearer "))


# A JSON string (escapes included); what it holds is never structure.
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in UTF-8 JSON ``body``, without parsing it (a parser
    recurses per level). Never less than the parser would reach, so it bounds the parse."""
    brackets = JSON_STRING.sub(b"", body).translate(None, NOT_A_BRACKET)
    return max(accumulate(map(BRACKET_STEP.__getitem__, brackets)), default=0)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body (UTF-8 JSON, at most ``MAX_JSON_DEPTH`` deep) as a JSON object, or 400."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise HTTPException(400, f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise HTTPException(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "expected a JSON object")
    return data


async def read_json(request: Request, limit: int, counter: Counter, source: str, *,
                    authenticated: bool = False,
                    check: Callable[[bytes], None] | None = None) -> tuple[bytes, dict[str, Any]]:
    """A webhook body: the raw bytes and the JSON object they hold, or the refusals of
    ``read_limited`` and ``parse_json_object``.

    Refusals are counted in ``counter`` as ``(source, outcome)`` with the outcomes of
    ``OUTCOMES``. ``authenticated``: the sender was already authenticated (a bearer token),
    so the body is not counted against ``MAX_UNAUTHENTICATED_BODIES``. ``check`` sees the raw
    bytes before they are parsed (a signature covers the exact bytes) and raises to refuse them.
    """
    try:
        body = await read_limited(request, limit, authenticated=authenticated)
        if check is not None:
            check(body)
        return body, parse_json_object(body)
    except HTTPException as refusal:
        if refusal.status_code in OUTCOMES:
            counter.labels(source, OUTCOMES[refusal.status_code]).inc()
        raise
