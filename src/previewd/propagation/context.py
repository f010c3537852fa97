"""The current canary value, held in a ``contextvars.ContextVar``.

Each request a middleware or server interceptor accepts runs with its own value, so concurrent
requests (threads, asyncio tasks) never see each other's.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from previewd.propagation.value import checked

T = TypeVar("T")

_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("previewd_canary", default=None)


def current() -> str | None:
    """The canary value (a PR number as a string of digits) of the running request, or None."""
    return _CURRENT.get()


@contextmanager
def use(value: str | int | None) -> Iterator[str | None]:
    """Run the ``with`` block with ``value`` as :func:`current` (None: with no canary).

    ``value`` must be 1-10 ASCII digits (a ValueError otherwise); an int is taken as its digits.
    """
    token = _CURRENT.set(checked(value))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def bound_context(value: str | None) -> contextvars.Context:
    """A copy of the caller's context in which :func:`current` is ``value``.

    For servers that call the application more than once per request (a WSGI body, a gRPC
    response stream): every call runs in this context, so the value holds throughout.
    """
    context = contextvars.copy_context()
    context.run(_CURRENT.set, value)
    return context


class ContextIterable(Iterable[T]):
    """``iterable`` whose every step (and ``close``) runs in ``context``."""

    def __init__(self, iterable: Iterable[T], context: contextvars.Context) -> None:
        self._iterable = iterable
        self._context = context

    def __iter__(self) -> Iterator[T]:
        iterator = self._context.run(iter, self._iterable)
        while True:
            try:
                item = self._context.run(next, iterator)
            except StopIteration:
                return
            yield item

    def close(self) -> None:
        close: Any = getattr(self._iterable, "close", None)
        if close is not None:
            self._context.run(close)
