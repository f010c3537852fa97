"""gRPC metadata both ways, for every call kind, with grpcio's sync and aio APIs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc import aio

from previewd.propagation import use
from previewd.propagation.grpc import aio_client_interceptor, client_interceptor
from tests.propagation_support import STREAM_ITEMS, aio_grpc_server, grpc_server, method

TIMEOUT = 30


def calls(channel: Any) -> dict[str, list[dict[str, Any]]]:
    """Each call kind once; what the server saw, per reply."""
    requests = [b"a", b"b"]
    return {
        "Unary": [channel.unary_unary(method("Unary"))(b"", timeout=TIMEOUT)],
        "ServerStream": list(channel.unary_stream(method("ServerStream"))(b"", timeout=TIMEOUT)),
        "ClientStream": [channel.stream_unary(method("ClientStream"))(iter(requests), timeout=TIMEOUT)],
        "BidiStream": list(channel.stream_stream(method("BidiStream"))(iter(requests), timeout=TIMEOUT)),
    }


def decoded(replies: dict[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
    return {kind: [json.loads(r) for r in items] for kind, items in replies.items()}


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with grpc_server() as where:
        yield where


def test_every_call_kind_carries_the_value(target: str) -> None:
    with grpc.insecure_channel(target) as plain:
        channel = grpc.intercept_channel(plain, client_interceptor())
        with use("42"):
            seen = decoded(calls(channel))
        unset = decoded(calls(channel))
    assert {k: len(v) for k, v in seen.items()} == {"Unary": 1, "ServerStream": STREAM_ITEMS,
                                                     "ClientStream": 1, "BidiStream": 2}
    for replies in seen.values():  # streamed replies, too, are made with the value
        assert replies == [{"current": "42", "x-canary": ["42"], "baggage": ["previewd-pr=42"]}] * len(replies)
    for replies in unset.values():
        assert all(r == {"current": None, "x-canary": [], "baggage": []} for r in replies)


def test_metadata_of_the_callers_own_is_merged(target: str) -> None:
    with grpc.insecure_channel(target) as plain:
        unary = grpc.intercept_channel(plain, client_interceptor()).unary_unary(method("Unary"))
        with use("7"):
            reply = json.loads(unary(b"", timeout=TIMEOUT, metadata=[("baggage", "a=1,previewd-pr=3"),
                                                                     ("x-canary", "3"), ("other", "x")]))
    assert reply == {"current": "7", "x-canary": ["7"], "baggage": ["a=1,previewd-pr=7"]}


@pytest.mark.parametrize("metadata", [
    [("x-canary", "42; drop")], [("x-canary", "../")], [("x-canary", "12345678901")],
    [("x-canary", "42"), ("x-canary", "42")], [("baggage", "previewd-pr=%2E%2E%2F")],
])
def test_the_server_drops_a_forged_value(target: str, metadata: list[tuple[str, str]]) -> None:
    with grpc.insecure_channel(target) as channel:  # no client interceptor: raw metadata
        reply = json.loads(channel.unary_unary(method("Unary"))(b"", timeout=TIMEOUT, metadata=metadata))
    assert reply["current"] is None


def test_the_server_accepts_baggage_alone(target: str) -> None:
    with grpc.insecure_channel(target) as channel:
        reply = json.loads(channel.unary_unary(method("Unary"))(
            b"", timeout=TIMEOUT, metadata=[("baggage", "previewd-pr=42;p")]))
    assert reply["current"] == "42"


async def aio_calls(target: str) -> dict[str, list[dict[str, Any]]]:
    async def requests() -> Any:
        for item in (b"a", b"b"):
            yield item

    async with aio.insecure_channel(target, interceptors=aio_client_interceptor()) as channel:
        replies = {
            "Unary": [await channel.unary_unary(method("Unary"))(b"", timeout=TIMEOUT)],
            "ServerStream": [r async for r in channel.unary_stream(method("ServerStream"))(b"", timeout=TIMEOUT)],
            "ClientStream": [await channel.stream_unary(method("ClientStream"))(requests(), timeout=TIMEOUT)],
            "BidiStream": [r async for r in channel.stream_stream(method("BidiStream"))(requests(), timeout=TIMEOUT)],
        }
    return decoded(replies)


def test_aio_clients_and_servers_carry_the_value() -> None:
    async def scenario() -> tuple[Any, Any, Any]:
        async with aio_grpc_server() as target:
            with use("42"):
                seen = await aio_calls(target)
            unset = await aio_calls(target)

            async def one(n: int) -> Any:
                with use(n):
                    return (await aio_calls(target))["Unary"][0]["current"]

            concurrent = await asyncio.gather(*(one(n) for n in range(1, 6)))
        return seen, unset, concurrent

    seen, unset, concurrent = asyncio.run(scenario())
    assert {k: len(v) for k, v in seen.items()} == {"Unary": 1, "ServerStream": STREAM_ITEMS,
                                                     "ClientStream": 1, "BidiStream": 2}
    for replies in seen.values():
        assert replies == [{"current": "42", "x-canary": ["42"], "baggage": ["previewd-pr=42"]}] * len(replies)
    for replies in unset.values():
        assert all(r == {"current": None, "x-canary": [], "baggage": []} for r in replies)
    assert concurrent == [str(n) for n in range(1, 6)]
