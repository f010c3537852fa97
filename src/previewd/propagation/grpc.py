"""gRPC: the canary value as metadata (``x-canary``, plus the ``baggage`` member), both ways.

Clients::

    channel = grpc.intercept_channel(grpc.insecure_channel(target), client_interceptor())
    channel = grpc.aio.insecure_channel(target, interceptors=aio_client_interceptor())

Servers::

    server = grpc.server(executor, interceptors=[server_interceptor()])
    server = grpc.aio.server(interceptors=[aio_server_interceptor()])

``aio_client_interceptor()`` is a list: grpc.aio files each interceptor under one call kind
only, so there is one per kind (unary-unary, unary-stream, stream-unary, stream-stream).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, NamedTuple

import grpc
from grpc import aio

from previewd.propagation import carrier
from previewd.propagation.context import ContextIterable, bound_context, current, use
from previewd.propagation.value import DEFAULT_HEADER, header_name

Behavior = Callable[..., Any]


def _key(header: str) -> str:
    return header_name(header).lower()  # gRPC metadata keys are lower-case


def _incoming(metadata: Iterable[Any] | None, key: str) -> str | None:
    pairs = [(str(m[0]).lower(), m[1]) for m in metadata or ()]
    return carrier.accepted([v for k, v in pairs if k == key], [v for k, v in pairs if k == carrier.BAGGAGE])


def _outgoing(metadata: Iterable[Any] | None, key: str) -> list[tuple[str, Any]] | None:
    """The call's metadata with the current value, or None to leave the call as it is."""
    value = current()
    if value is None:
        return None
    return carrier.outgoing([(m[0], m[1]) for m in metadata or ()], key, value)


# -- servers --------------------------------------------------------------------------------

def _sync_behavior(behavior: Behavior, value: str | None, streams: bool) -> Behavior:
    """Run a thread-pool behavior, and the iteration of the stream it returns, with ``value``."""

    def run(request: Any, context: Any) -> Any:
        bound = bound_context(value)
        result = bound.run(behavior, request, context)
        return iter(ContextIterable(result, bound)) if streams else result

    return run


def _aio_behavior(behavior: Behavior, value: str | None, streams: bool) -> Behavior:
    """The same for grpc.aio, keeping the behavior's kind (grpc.aio dispatches on it)."""
    if inspect.isasyncgenfunction(behavior):
        async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
            with use(value):
                async for item in behavior(request, context):
                    yield item
        return stream
    if inspect.iscoroutinefunction(behavior):
        async def unary(request: Any, context: Any) -> Any:
            with use(value):
                return await behavior(request, context)
        return unary
    return _sync_behavior(behavior, value, streams)


_KINDS = {  # RpcMethodHandler attribute -> constructor, and whether the response streams
    "unary_unary": (grpc.unary_unary_rpc_method_handler, False),
    "unary_stream": (grpc.unary_stream_rpc_method_handler, True),
    "stream_unary": (grpc.stream_unary_rpc_method_handler, False),
    "stream_stream": (grpc.stream_stream_rpc_method_handler, True),
}


def _handler(handler: Any, value: str | None,
             wrap: Callable[[Behavior, str | None, bool], Behavior]) -> Any:
    for kind, (make, streams) in _KINDS.items():
        behavior = getattr(handler, kind, None)
        if behavior is not None:
            return make(wrap(behavior, value, streams), request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
    return handler


class _ServerInterceptor(grpc.ServerInterceptor):
    def __init__(self, header: str) -> None:
        self._key = _key(header)

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return _handler(handler, _incoming(handler_call_details.invocation_metadata, self._key), _sync_behavior)


class _AioServerInterceptor(aio.ServerInterceptor):
    def __init__(self, header: str) -> None:
        self._key = _key(header)

    async def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return _handler(handler, _incoming(handler_call_details.invocation_metadata, self._key), _aio_behavior)


def server_interceptor(header: str = DEFAULT_HEADER) -> grpc.ServerInterceptor:
    """For ``grpc.server(..., interceptors=[...])``: each call's handler runs with its value."""
    return _ServerInterceptor(header)


def aio_server_interceptor(header: str = DEFAULT_HEADER) -> aio.ServerInterceptor:
    """For ``grpc.aio.server(interceptors=[...])``."""
    return _AioServerInterceptor(header)


# -- clients --------------------------------------------------------------------------------

class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, Any]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _ClientInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                         grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    def __init__(self, header: str) -> None:
        self._key = _key(header)

    def _details(self, details: Any) -> Any:
        metadata = _outgoing(details.metadata, self._key)
        if metadata is None:
            return details
        return _ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                  getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)


class _ClientCallDetails(_CallDetails, grpc.ClientCallDetails):  # type: ignore[misc]
    """grpc.intercept_channel wants a grpc.ClientCallDetails; this is one with our metadata."""


class _AioDetails:
    def __init__(self, header: str) -> None:
        self._key = _key(header)

    def _details(self, details: Any) -> Any:
        metadata = _outgoing(details.metadata, self._key)
        if metadata is None:
            return details
        return aio.ClientCallDetails(details.method, details.timeout, aio.Metadata(*metadata),
                                     details.credentials, details.wait_for_ready)


class _AioUnaryUnary(_AioDetails, aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class _AioUnaryStream(_AioDetails, aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class _AioStreamUnary(_AioDetails, aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, client_call_details: Any,
                                     request_iterator: Any) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


class _AioStreamStream(_AioDetails, aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, client_call_details: Any,
                                      request_iterator: Any) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


def client_interceptor(header: str = DEFAULT_HEADER) -> grpc.UnaryUnaryClientInterceptor:
    """For ``grpc.intercept_channel(channel, ...)``: one interceptor for all four call kinds,
    adding the caller's current value to each call's metadata."""
    return _ClientInterceptor(header)


def aio_client_interceptor(header: str = DEFAULT_HEADER) -> list[aio.ClientInterceptor]:
    """For ``grpc.aio.insecure_channel(target, interceptors=...)``: one per call kind."""
    return [_AioUnaryUnary(header), _AioUnaryStream(header), _AioStreamUnary(header), _AioStreamStream(header)]
