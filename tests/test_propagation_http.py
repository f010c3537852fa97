"""The HTTP middleware and clients against real servers: echo, CORS preflights, streamed WSGI
bodies, ``requests.install`` and httpx's sync client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
import requests
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from previewd.propagation import current, use
from previewd.propagation.asgi import CanaryMiddleware as AsgiCanary
from previewd.propagation.httpx import event_hooks
from previewd.propagation.requests import install
from previewd.propagation.wsgi import CanaryMiddleware as WsgiCanary
from previewd.propagation.wsgi import Environ, StartResponse
from tests.propagation_support import asgi_server, wsgi_server

ORIGIN = "http://ui.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "content-type, x-canary"}


def recorder(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """A WSGI app that answers with the request headers it got, and streams ``current()``."""
    headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
    start_response("200 OK", [("Content-Type", "application/json")])

    def body() -> Iterator[bytes]:  # runs while the server iterates, after the app returned
        yield json.dumps({"headers": headers, "current": current()}).encode()

    return body()


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    """The recorder, as the server side of the clients' tests (no middleware: raw headers)."""
    with wsgi_server(recorder) as url:
        yield url


def test_wsgi_bodies_are_made_with_the_value_echo_and_preflight() -> None:
    with wsgi_server(WsgiCanary(recorder, echo=True)) as url:
        reply = httpx.get(url, headers={"X-Canary": "42"})
        forged = httpx.get(url, headers={"X-Canary": "42; drop"})
        preflight = httpx.options(url, headers=PREFLIGHT)
    assert reply.json() == {"headers": reply.json()["headers"], "current": "42"}
    assert reply.headers["X-Canary-Echo"] == "42"
    assert forged.json()["current"] is None and "x-canary" not in forged.json()["headers"]
    assert "X-Canary-Echo" not in forged.headers
    assert preflight.headers["Access-Control-Allow-Headers"] == "X-Canary"
    # The app behind sees the preflight without the header this middleware answers for.
    assert preflight.json()["headers"]["access-control-request-headers"] == "content-type"


@pytest.mark.parametrize(("sent", "seen", "value"), [
    ({"baggage": "a=1,previewd-pr=7"}, {"x-canary": "7", "baggage": "a=1,previewd-pr=7"}, "7"),
    ({"baggage": "a=1,previewd-pr=../"}, {"baggage": "a=1"}, None),
    ({"baggage": "previewd-pr=../"}, {}, None),
    ({"X-Canary": "../", "baggage": "a=1"}, {"baggage": "a=1"}, None),
])
def test_wsgi_app_sees_only_accepted_values(sent: dict[str, str], seen: dict[str, str],
                                            value: str | None) -> None:
    with wsgi_server(WsgiCanary(recorder)) as url:
        got = httpx.get(url, headers=sent).json()
    carried = {k: v for k, v in got["headers"].items() if k in ("x-canary", "baggage")}
    assert carried == seen and got["current"] == value


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(current() or "-")


def test_asgi_preflight_with_the_apps_own_cors_policy() -> None:
    inner = CORSMiddleware(Starlette(routes=[Route("/", hello)]), allow_origins=[ORIGIN],
                           allow_headers=["content-type"], allow_methods=["GET"])
    with asgi_server(AsgiCanary(inner, echo=True)) as url, asgi_server(inner) as bare_url:
        preflight = httpx.options(url, headers=PREFLIGHT)
        without = httpx.options(bare_url, headers=PREFLIGHT)
        reply = httpx.get(url, headers={"X-Canary": "42", "Origin": ORIGIN})
        other = httpx.options(url, headers={**PREFLIGHT, "Origin": "http://elsewhere.example"})
    assert without.status_code == 400  # what the app's CORS policy alone says to x-canary
    assert preflight.status_code == 200
    allowed = [h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")]
    assert "x-canary" in allowed and "content-type" in allowed
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert reply.text == "42" and reply.headers["X-Canary-Echo"] == "42"
    assert other.status_code == 400  # the origin policy stays the app's


def test_asgi_preflight_without_a_cors_policy_still_names_the_header() -> None:
    with asgi_server(AsgiCanary(Starlette(routes=[Route("/", hello, methods=["GET", "OPTIONS"])]))) as url:
        preflight = httpx.options(url, headers=PREFLIGHT)
        plain = httpx.get(url, headers={"X-Canary": "42"})
    assert preflight.headers["Access-Control-Allow-Headers"] == "X-Canary"
    assert "X-Canary-Echo" not in plain.headers  # echo is off unless asked for


def test_requests_install_sends_the_value(echo_server: str) -> None:
    session = install(requests.Session())
    assert install(session) is session  # installing twice does not wrap twice
    with use("42"):
        sent = session.get(echo_server, headers={"baggage": "a=1,previewd-pr=9"}, timeout=30).json()
    unset = session.get(echo_server, timeout=30).json()
    assert sent["headers"]["x-canary"] == "42"
    assert sent["headers"]["baggage"] == "a=1,previewd-pr=42"
    assert "x-canary" not in unset["headers"] and "baggage" not in unset["headers"]


def test_requests_install_with_another_header(echo_server: str) -> None:
    session = install(requests.Session(), header="X-Preview")
    with use("5"):
        sent: dict[str, Any] = session.get(echo_server, timeout=30).json()
    assert sent["headers"]["x-preview"] == "5" and "x-canary" not in sent["headers"]


def test_httpx_sync_client_sends_the_value(echo_server: str) -> None:
    with httpx.Client(event_hooks=event_hooks(), timeout=30) as client:
        with use("42"):
            sent = client.get(echo_server, headers={"baggage": "previewd-pr=1"}).json()
        unset = client.get(echo_server).json()
    assert sent["headers"]["x-canary"] == "42" and sent["headers"]["baggage"] == "previewd-pr=42"
    assert "x-canary" not in unset["headers"]


def test_lifespan_is_passed_through_untouched() -> None:
    got: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got.append(scope)

    scope = {"type": "lifespan", "headers": [(b"x-canary", b"../")]}
    asyncio.run(AsgiCanary(app)(scope, None, None))  # type: ignore[arg-type]
    assert got == [scope] and got[0] is scope


@pytest.mark.parametrize("headers", [{"X-Canary": "42"}, {"baggage": "previewd-pr=42"}])
def test_json_route_under_asgi_sees_the_value(headers: dict[str, str]) -> None:
    async def seen(request: Request) -> JSONResponse:
        return JSONResponse({"current": current(), "baggage": request.headers.get("baggage")})

    app = Starlette(routes=[Route("/", seen)])
    app.add_middleware(AsgiCanary)  # as docs/canary.md wires it
    with asgi_server(app) as url:
        assert httpx.get(url, headers=headers).json()["current"] == "42"
