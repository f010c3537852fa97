"""WSGI middleware: accept the canary value of each request and run the app with it.

``app = CanaryMiddleware(app)`` (Flask: ``app.wsgi_app = CanaryMiddleware(app.wsgi_app)``).
The app and the iteration of its response body run with the value as
:func:`previewd.propagation.current`. A header value that is not accepted is removed from the
environ the app sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from previewd.propagation import carrier
from previewd.propagation.context import ContextIterable, bound_context
from previewd.propagation.value import DEFAULT_HEADER, ECHO_SUFFIX, header_name

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class CanaryMiddleware:
    """Run each request with its canary value as ``current()``; ``echo`` and CORS preflights as
    in :class:`previewd.propagation.asgi.CanaryMiddleware`."""

    def __init__(self, app: WSGIApp, header: str = DEFAULT_HEADER, *, echo: bool = False) -> None:
        self.app = app
        self.header = header_name(header)
        self.echo = echo
        self._key = _environ_key(self.header)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # A server joins repeated headers with ", ", which is then not a canary value.
        canary = [environ[self._key]] if self._key in environ else []
        bags = [environ["HTTP_BAGGAGE"]] if "HTTP_BAGGAGE" in environ else []
        value = carrier.accepted(canary, bags)
        environ = {k: v for k, v in environ.items() if k not in (self._key, "HTTP_BAGGAGE")}
        carried = [(self.header.lower(), v) for v in canary] + [(carrier.BAGGAGE, v) for v in bags]
        for name, kept in carrier.cleaned(carried, self.header.lower(), value):
            environ[_environ_key(name)] = kept
        names = [k[5:].lower().replace("_", "-") for k in environ if k.startswith("HTTP_")]
        preflight = carrier.is_preflight(environ.get("REQUEST_METHOD", ""), names)
        if preflight:
            requested = environ.pop(_environ_key(carrier.REQUEST_HEADERS), None)
            rest = carrier.without_requested([requested] if requested else [], self.header)
            if rest:
                environ[_environ_key(carrier.REQUEST_HEADERS)] = rest

        def start(status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None) -> Any:
            headers = list(headers)
            if preflight:
                allowed = [v for k, v in headers if k.lower() == carrier.ALLOW_HEADERS]
                headers = [(k, v) for k, v in headers if k.lower() != carrier.ALLOW_HEADERS]
                headers.append(("Access-Control-Allow-Headers", carrier.allow_headers(allowed, self.header)))
            if self.echo and value is not None:
                headers.append((self.header + ECHO_SUFFIX, value))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        context = bound_context(value)
        return ContextIterable(context.run(self.app, environ, start), context)
