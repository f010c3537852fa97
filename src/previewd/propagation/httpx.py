"""httpx: send the current canary value with every request a client makes.

``httpx.Client(event_hooks=event_hooks())`` or ``httpx.AsyncClient(event_hooks=event_hooks())``;
to keep hooks of your own, add them to the lists: ``hooks = event_hooks();
hooks["request"].append(mine)``.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from previewd.propagation import baggage
from previewd.propagation.context import current
from previewd.propagation.value import DEFAULT_HEADER, header_name


class _Done:
    """An awaitable that is already finished: what the hook returns."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


class RequestHook:
    """Set the canary header and the ``previewd-pr`` baggage member from ``current()``.

    One hook serves both clients: ``httpx.Client`` calls it and ignores the result, while
    ``httpx.AsyncClient`` calls it and awaits the result. The work happens in the call itself,
    in the caller's context (its thread, or its asyncio task), so the value is the caller's.
    """

    def __init__(self, header: str = DEFAULT_HEADER) -> None:
        self.header = header_name(header)

    def __call__(self, request: httpx.Request) -> _Done:
        value = current()
        if value is not None:
            merged = baggage.with_pr(request.headers.get_list("baggage"), value)
            request.headers[self.header] = value
            if merged:
                request.headers["baggage"] = merged
            else:
                request.headers.pop("baggage", None)
        return _Done()


def event_hooks(header: str = DEFAULT_HEADER) -> dict[str, list[RequestHook]]:
    """Event hooks for ``httpx.Client`` and ``httpx.AsyncClient`` alike (a fresh dict each call)."""
    return {"request": [RequestHook(header)]}
