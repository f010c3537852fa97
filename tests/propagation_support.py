"""Real servers on loopback for the propagation tests: uvicorn (ASGI), a threading wsgiref
server (WSGI), grpcio (sync and aio), and a gRPC probe service defined with generic handlers
(no protoc): every method answers with what the server saw (``current()`` and raw metadata)."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import grpc
import uvicorn
from grpc import aio

from previewd.propagation import current
from previewd.propagation.grpc import aio_server_interceptor, server_interceptor
from previewd.propagation.wsgi import WSGIApp
from tests.support import free_port, wait_for

SERVICE = "previewd.test.Probe"
METHODS = ("Unary", "ServerStream", "ClientStream", "BidiStream")
STREAM_ITEMS = 3  # replies per streamed response


def seen(context: Any) -> bytes:
    """What a gRPC handler saw, as JSON bytes."""
    metadata = [(m.key, m.value) for m in context.invocation_metadata() or ()]
    return json.dumps({
        "current": current(),
        "x-canary": [v for k, v in metadata if k == "x-canary"],
        "baggage": [v for k, v in metadata if k == "baggage"],
    }).encode()


def _identity(data: bytes) -> bytes:
    return data


def _sync_methods() -> dict[str, grpc.RpcMethodHandler[bytes, bytes]]:
    def unary(_request: bytes, context: Any) -> bytes:
        return seen(context)

    def server_stream(_request: bytes, context: Any) -> Iterator[bytes]:
        for _ in range(STREAM_ITEMS):  # each item is produced while the server iterates
            yield seen(context)

    def client_stream(requests: Iterator[bytes], context: Any) -> bytes:
        for _ in requests:
            pass
        return seen(context)

    def bidi(requests: Iterator[bytes], context: Any) -> Iterator[bytes]:
        for _ in requests:
            yield seen(context)

    kw: dict[str, Any] = {"request_deserializer": _identity, "response_serializer": _identity}
    return {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, **kw),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, **kw),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, **kw),
        "BidiStream": grpc.stream_stream_rpc_method_handler(bidi, **kw),
    }


def _aio_methods() -> dict[str, grpc.RpcMethodHandler[bytes, bytes]]:
    async def unary(_request: bytes, context: Any) -> bytes:
        return seen(context)

    async def server_stream(_request: bytes, context: Any) -> AsyncIterator[bytes]:
        for _ in range(STREAM_ITEMS):
            yield seen(context)

    async def client_stream(requests: AsyncIterator[bytes], context: Any) -> bytes:
        async for _ in requests:
            pass
        return seen(context)

    async def bidi(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        async for _ in requests:
            yield seen(context)

    kw: dict[str, Any] = {"request_deserializer": _identity, "response_serializer": _identity}
    return {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, **kw),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, **kw),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, **kw),
        "BidiStream": grpc.stream_stream_rpc_method_handler(bidi, **kw),
    }


def method(name: str) -> str:
    return f"/{SERVICE}/{name}"


@contextmanager
def grpc_server(intercept: bool = True) -> Iterator[str]:
    """A grpcio server with the probe service (and ``server_interceptor()``); yields its target."""
    server = grpc.server(ThreadPoolExecutor(max_workers=4),
                         interceptors=[server_interceptor()] if intercept else [])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, _sync_methods()),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


@asynccontextmanager
async def aio_grpc_server() -> AsyncIterator[str]:
    """A grpc.aio server with the probe service and ``aio_server_interceptor()``."""
    server = aio.server(interceptors=[aio_server_interceptor()])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, _aio_methods()),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgi_server(app: WSGIApp) -> Iterator[str]:
    """``app`` served by wsgiref (one thread per request) on loopback; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def asgi_server(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on loopback; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
