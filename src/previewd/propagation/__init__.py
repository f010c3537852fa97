"""Carry a PR's canary value (``X-Canary: <N>``) through a Python service.

A request that reaches a PR's canary carries the PR number in the canary header (or as the W3C
baggage member ``previewd-pr``). A service accepts it at its edge and sends it on with every
call it makes, so each hop behind it reaches the same PR's canaries:

- incoming: :mod:`previewd.propagation.asgi` and :mod:`previewd.propagation.wsgi` middleware,
  :func:`previewd.propagation.grpc.server_interceptor` (and ``aio_server_interceptor``);
- outgoing: :func:`previewd.propagation.httpx.event_hooks`,
  :func:`previewd.propagation.requests.install`, :func:`previewd.propagation.grpc.client_interceptor`
  (and ``aio_client_interceptor``);
- in between: :func:`current` and :func:`use`.

Only 1-10 ASCII digits are ever accepted; anything else is dropped where it arrives and never
sent on. This package imports only the standard library; each integration module imports its
own framework (httpx, requests, grpcio) and nothing of the previewd server.
"""

from __future__ import annotations

from previewd.propagation.context import current, use
from previewd.propagation.value import DEFAULT_HEADER, MAX_DIGITS, canary_value

__all__ = ["DEFAULT_HEADER", "MAX_DIGITS", "canary_value", "current", "use"]
