"""The HTTP server previewd runs: uvicorn's h11 server with every connection bound in time,
size and number (``http/limits.py``)."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from previewd.http.limits import (
    KEEP_ALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    REQUEST_HEAD_TIMEOUT,
)


class HeadDeadlineProtocol(H11Protocol):
    """h11 with a deadline for every request head: uvicorn times out only idle keep-alive
    connections, so a client sending its headers a byte at a time was never closed."""

    head_deadline: asyncio.TimerHandle | None = None

    def arm_head_deadline(self) -> None:
        self.disarm_head_deadline()
        self.head_deadline = self.loop.call_later(REQUEST_HEAD_TIMEOUT, self.head_timed_out)

    def disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def head_timed_out(self) -> None:
        self.head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.arm_head_deadline()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request head arrived: its body has its own deadline
            self.disarm_head_deadline()

    def on_response_complete(self) -> None:
        # Armed first: the parent may parse a pipelined request head, which disarms it.
        self.arm_head_deadline()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm_head_deadline()
        super().connection_lost(exc)


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run ``app`` until SIGINT/SIGTERM."""
    uvicorn.run(app, host=host, port=port, http=HeadDeadlineProtocol, log_level="warning",
                access_log=False, timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
                h11_max_incomplete_event_size=MAX_HEADER_BYTES, limit_concurrency=MAX_CONNECTIONS)
