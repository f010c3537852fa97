"""Three real hops over real sockets: an ASGI app (uvicorn) calls a WSGI app (wsgiref) through
httpx, which calls a gRPC server (grpcio). The canary value reaches the last hop; a forged one
never leaves the first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from previewd.propagation import current
from previewd.propagation.asgi import CanaryMiddleware as AsgiCanary
from previewd.propagation.grpc import client_interceptor
from previewd.propagation.httpx import event_hooks
from previewd.propagation.wsgi import CanaryMiddleware as WsgiCanary
from previewd.propagation.wsgi import Environ, StartResponse
from tests.propagation_support import asgi_server, grpc_server, method, wsgi_server


def wsgi_hop(grpc_target: str) -> Any:
    """The middle hop: reports what it saw and what the gRPC hop saw."""
    channel = grpc.intercept_channel(grpc.insecure_channel(grpc_target), client_interceptor())
    unary = channel.unary_unary(method("Unary"))

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = json.dumps({
            "current": current(),
            "x-canary": environ.get("HTTP_X_CANARY"),
            "baggage": environ.get("HTTP_BAGGAGE"),
            "grpc": json.loads(unary(b"", timeout=30)),
        }).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return WsgiCanary(app)


def asgi_hop(wsgi_url: str) -> Any:
    """The first hop: calls the WSGI hop with an httpx.AsyncClient."""

    async def endpoint(request: Request) -> JSONResponse:
        async with httpx.AsyncClient(event_hooks=event_hooks(), timeout=30) as client:
            reply = await client.get(wsgi_url, headers={"baggage": "userId=alice"})
        return JSONResponse({"current": current(), "x-canary": request.headers.get("x-canary"),
                             "next": reply.json()})

    return AsgiCanary(Starlette(routes=[Route("/", endpoint)]))


@pytest.fixture(scope="module")
def chain() -> Iterator[str]:
    with grpc_server() as target, wsgi_server(wsgi_hop(target)) as wsgi_url, \
            asgi_server(asgi_hop(wsgi_url)) as asgi_url:
        yield asgi_url


def hops(reply: httpx.Response) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    assert reply.status_code == 200, reply.text
    first = reply.json()
    return first, first["next"], first["next"]["grpc"]


@pytest.mark.parametrize("headers", [
    {"X-Canary": "42"},
    {"x-canary": "42"},  # header names are case-insensitive
    {"baggage": "previewd-pr=42;ttl=5, other=1"},  # W3C baggage, with a property
    {"baggage": "previewd-pr=%34%32"},  # percent-encoded
])
def test_the_value_reaches_the_last_hop(chain: str, headers: dict[str, str]) -> None:
    first, middle, last = hops(httpx.get(chain, headers=headers, timeout=60))
    assert first["current"] == middle["current"] == last["current"] == "42"
    assert middle["x-canary"] == "42" and last["x-canary"] == ["42"]
    # The first hop's own baggage member survives beside ours.
    assert middle["baggage"] == "userId=alice,previewd-pr=42"
    assert last["baggage"] == ["previewd-pr=42"]


FORGED: list[dict[str, str | bytes]] = [
    {"X-Canary": "42; drop"},
    {"X-Canary": "../"},
    {"X-Canary": "12345678901"},  # eleven digits
    {"X-Canary": "４２".encode()},  # fullwidth digits (UTF-8): str.isdigit() says yes
    {"X-Canary": "42é".encode()},  # non-ASCII bytes on the wire
    {"X-Canary": ""},
    {"baggage": "previewd-pr=../"},
    {"baggage": "previewd-pr=%34%32%3B%20drop"},  # decodes to "42; drop"
    {"baggage": "previewd-pr=1,previewd-pr=2"},  # ambiguous
    {"X-Canary": "42; drop", "baggage": "previewd-pr=42"},  # a bad header is not rescued by baggage
]


@pytest.mark.parametrize("headers", FORGED)
def test_a_forged_value_never_leaves_the_first_hop(chain: str, headers: dict[str, str | bytes]) -> None:
    first, middle, last = hops(httpx.get(chain, headers=headers, timeout=60))
    assert first["current"] is None and first["x-canary"] is None  # removed from the request
    assert middle == {"current": None, "x-canary": None, "baggage": "userId=alice", "grpc": last}
    assert last == {"current": None, "x-canary": [], "baggage": []}


def test_repeated_headers_are_not_a_value(chain: str) -> None:
    reply = httpx.get(chain, headers=[("X-Canary", "42"), ("X-Canary", "43")], timeout=60)
    first, _middle, last = hops(reply)
    assert first["current"] is None and last == {"current": None, "x-canary": [], "baggage": []}


def test_concurrent_requests_keep_their_own_values(chain: str) -> None:
    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*(client.get(chain, headers={"X-Canary": str(n)}) for n in range(1, 9)))

    for n, reply in enumerate(asyncio.run(all_at_once()), start=1):
        assert [hop["current"] for hop in hops(reply)] == [str(n)] * 3
