"""Unauthenticated cost and hostile input against a real ``previewd serve``: slow heads and
stalled bodies are cut off at their bounds, many stalled bodies hold bounded memory, oversized
declared lengths and odd credentials get clean 4xx, and every refusal is logged."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from previewd.http.limits import (
    BODY_READ_TIMEOUT,
    MAX_HEADER_BYTES,
    MAX_JSON_DEPTH,
    MAX_UNAUTHENTICATED_BODIES,
    REQUEST_HEAD_TIMEOUT,
)
from previewd.http.registry_hooks import PARSERS
from tests.support import SECRET, Serve, base_config, github_headers, pr_payload, remote_log, wait_for, write_config

ARGO_TOKEN, REGISTRY_TOKEN = "argo-e2e-token", "registry-e2e-token"
SLACK = 20.0  # seconds on top of a bound before a test gives up: the machine may be busy
BODY_LIMIT = 1536 * 1024


@pytest.fixture
def server(tmp_path: Path, bare: Path, port: int) -> Iterator[Serve]:
    data = base_config(tmp_path, bare, port)
    data["server"]["max_body_bytes"] = BODY_LIMIT
    data["argocd"]["notifications_token"] = ARGO_TOKEN
    data["registries"] = [{"host": "registry.example.com", "notifications_token": REGISTRY_TOKEN}]
    serve = Serve(write_config(tmp_path, data), tmp_path, port).start()
    yield serve
    serve.stop()


def connect(serve: Serve) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", serve.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    return sock


def head(path: str = "/hooks/github", length: int | None = None, **extra: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: previewd", "Content-Type: application/json",
             *(f"{k.replace('_', '-')}: {v}" for k, v in extra.items())]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def until_closed(sock: socket.socket, started: float, give_up: float, dribble: bytes = b"") -> tuple[bytes, float]:
    """What the server sent until it closed ``sock`` and when (seconds after ``started``),
    sending ``dribble`` every second meanwhile (a deadline must not restart on each byte)."""
    received = b""
    sock.settimeout(1.0)
    while time.monotonic() - started < give_up:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            if dribble:
                try:
                    sock.sendall(dribble)
                except OSError:
                    break
            continue
        except OSError:
            break
        if not data:
            break
        received += data
    else:
        raise AssertionError(f"still open after {give_up:.0f} s; received {received[:200]!r}")
    return received, time.monotonic() - started


def test_slow_heads_and_stalled_bodies_are_closed_within_their_bounds(server: Serve) -> None:
    started = time.monotonic()
    slow = connect(server)
    slow.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: previewd\r\n")
    after_a_response = connect(server)  # a keep-alive connection's next head has a deadline too
    after_a_response.sendall(b"GET /healthz HTTP/1.1\r\nHost: previewd\r\n\r\n")
    stalled = connect(server)
    stalled.sendall(head(length=1000, X_GitHub_Event="pull_request", X_GitHub_Delivery="stalled-1") + b"{")

    _, slow_closed = until_closed(slow, started, REQUEST_HEAD_TIMEOUT + SLACK, dribble=b"X")
    answered, keep_alive_closed = until_closed(after_a_response, started, REQUEST_HEAD_TIMEOUT + SLACK,
                                               dribble=b"X")
    refused, stalled_closed = until_closed(stalled, started, BODY_READ_TIMEOUT + SLACK)
    assert slow_closed >= REQUEST_HEAD_TIMEOUT * 0.9
    assert answered.startswith(b"HTTP/1.1 200") and keep_alive_closed >= REQUEST_HEAD_TIMEOUT * 0.9
    assert refused.startswith(b"HTTP/1.1 408") and stalled_closed >= BODY_READ_TIMEOUT * 0.9
    assert b"refused github webhook: 408" in server.log.read_bytes()
    assert server.get("/healthz").status_code == 200


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_many_stalled_bodies_hold_bounded_memory(server: Serve, bare: Path) -> None:
    assert server.proc is not None
    before = rss_kib(server.proc.pid, "VmRSS")
    connections, statuses = 150, []
    body = b"{" + b" " * (BODY_LIMIT - 2)  # most of an allowed body, never finished
    lock = threading.Lock()

    def stall() -> None:
        sock = connect(server)
        try:
            sock.sendall(head(length=BODY_LIMIT, X_GitHub_Event="pull_request", X_GitHub_Delivery="s") + body)
            status = sock.recv(12)
        except OSError:
            status = b"closed"
        with lock:
            statuses.append((sock, status))

    threads = [threading.Thread(target=stall) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BODY_READ_TIMEOUT + SLACK)
    peak = rss_kib(server.proc.pid, "VmHWM")
    held = sum(1 for _sock, status in statuses if status.startswith(b"HTTP/1.1 408"))
    for sock, _status in statuses:
        sock.close()
    # Each held body costs at most the limit (plus one copy while it is joined); everything
    # else is refused with 503 before it is read.
    bound_kib = 2 * MAX_UNAUTHENTICATED_BODIES * BODY_LIMIT // 1024 + 48 * 1024
    assert peak - before < bound_kib, (peak - before, bound_kib)
    # The rest got 503 at once (often lost to the reset of a connection closed unread).
    assert held <= MAX_UNAUTHENTICATED_BODIES * 3 and len(statuses) == connections
    assert b"refused github webhook: 503 too many webhook bodies in flight" in server.log.read_bytes()
    # Nothing is stuck: the next real delivery is stored and committed.
    assert server.post("pull_request", pr_payload(sha="1" * 40)).status_code == 202
    wait_for(lambda: remote_log(bare), timeout=60)


def test_a_declared_length_over_the_limit_gets_413_before_any_body_and_a_huge_head_400(server: Serve) -> None:
    sock = connect(server)
    sock.sendall(head(length=10 * 1024**3, X_GitHub_Event="pull_request", X_GitHub_Delivery="huge"))
    answer, _ = until_closed(sock, time.monotonic(), SLACK)
    assert answer.startswith(b"HTTP/1.1 413")
    assert f"body exceeds {BODY_LIMIT} bytes".encode() in answer
    oversized_head = connect(server)
    oversized_head.sendall(head(X_Padding="x" * MAX_HEADER_BYTES).removesuffix(b"\r\n\r\n"))  # unfinished
    answer, _ = until_closed(oversized_head, time.monotonic(), SLACK)
    assert answer.startswith(b"HTTP/1.1 400")


def test_odd_credentials_and_deep_bodies_get_4xx_and_are_logged(server: Serve, bare: Path) -> None:
    body = json.dumps(pr_payload()).encode()
    hooks = server.url + "/hooks/github"
    forged = {**github_headers("pull_request", body, delivery="non-ascii-1"), "X-Hub-Signature-256": b"sha256=\xff"}
    assert httpx.post(hooks, content=body, headers=forged).status_code == 401
    for path in ("/hooks/argocd", "/hooks/registry/distribution"):
        bearer = {"Authorization": b"Bearer \xff"}
        assert httpx.post(server.url + path, content=b"{}", headers=bearer).status_code == 401
    deep = b"[" * 60_000
    assert httpx.post(hooks, content=deep,
                      headers=github_headers("pull_request", deep, delivery="deep-1")).status_code == 400
    argo = {"Authorization": f"Bearer {ARGO_TOKEN}"}
    assert httpx.post(server.url + "/hooks/argocd", content=deep, headers=argo).status_code == 400
    registry = {"Authorization": f"Bearer {REGISTRY_TOKEN}"}
    for kind in PARSERS:
        assert httpx.post(f"{server.url}/hooks/registry/{kind}", content=deep,
                          headers=registry).status_code == 400, kind
    wait_for(lambda: b"(delivery deep-1)" in server.log.read_bytes())
    log = server.log.read_text()
    assert "refused github webhook: 401 missing or invalid X-Hub-Signature-256 (delivery non-ascii-1)" in log
    assert f"refused github webhook: 400 JSON nests deeper than {MAX_JSON_DEPTH} levels (delivery deep-1)" in log
    assert "Traceback" not in log
    assert not any(secret in log for secret in (SECRET, ARGO_TOKEN, REGISTRY_TOKEN))
    assert server.post("pull_request", pr_payload(sha="2" * 40)).status_code == 202
    wait_for(lambda: remote_log(bare), timeout=60)
