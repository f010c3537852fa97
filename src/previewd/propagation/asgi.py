"""ASGI middleware: accept the canary value of each request and run the app with it.

``app = CanaryMiddleware(app)`` (Starlette/FastAPI: ``app.add_middleware(CanaryMiddleware)``).
Inside the app, :func:`previewd.propagation.current` is the request's value or None. A header
value that is not accepted is removed from the request the app sees.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from previewd.propagation import carrier
from previewd.propagation.context import use
from previewd.propagation.value import DEFAULT_HEADER, ECHO_SUFFIX, header_name

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _text(pairs: list[tuple[bytes, bytes]]) -> carrier.Pairs:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in pairs]


def _raw(pairs: carrier.Pairs) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


class CanaryMiddleware:
    """Run each HTTP or WebSocket request with its canary value as ``current()``.

    ``echo=True`` adds ``<header>-Echo: <N>`` to responses that had a value. CORS preflights
    always answer with the header in ``Access-Control-Allow-Headers``: the app's own CORS
    handling (if any) sees the preflight without it and decides everything else.
    """

    def __init__(self, app: ASGIApp, header: str = DEFAULT_HEADER, *, echo: bool = False) -> None:
        self.app = app
        self.header = header_name(header)
        self.echo = echo
        self._key = self.header.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        pairs = _text(list(scope.get("headers", [])))
        value = carrier.accepted([v for k, v in pairs if k == self._key],
                                 [v for k, v in pairs if k == carrier.BAGGAGE])
        pairs = carrier.cleaned(pairs, self._key, value)
        preflight = scope["type"] == "http" and carrier.is_preflight(scope.get("method", ""), [k for k, _ in pairs])
        if preflight:
            requested = carrier.without_requested([v for k, v in pairs if k == carrier.REQUEST_HEADERS], self.header)
            pairs = [(k, v) for k, v in pairs if k != carrier.REQUEST_HEADERS]
            pairs += [(carrier.REQUEST_HEADERS, requested)] if requested else []
        scope = {**scope, "headers": _raw(pairs)}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = _text(list(message.get("headers", [])))
                if preflight:
                    allowed = [v for k, v in headers if k == carrier.ALLOW_HEADERS]
                    headers = [(k, v) for k, v in headers if k != carrier.ALLOW_HEADERS]
                    headers.append((carrier.ALLOW_HEADERS, carrier.allow_headers(allowed, self.header)))
                if self.echo and value is not None:
                    headers.append((self._key + ECHO_SUFFIX.lower(), value))
                message = {**message, "headers": _raw(headers)}
            await send(message)

        with use(value):
            await self.app(scope, receive, send_with_headers)
