"""The three webhook endpoints in process: what is stored, what is only answered, and how
every refusal is counted (one body reader for all of them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from previewd.http.app import create_app
from previewd.http.bodies import BodySlots
from previewd.http.limits import (
    MAX_JSON_DEPTH,
    MAX_LOGGED_DELIVERY_ID,
    MAX_UNAUTHENTICATED_BODIES,
    RETRY_AFTER_SECONDS,
)
from previewd.http.registry_hooks import PARSERS
from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.support import SECRET, base_config, github_headers, pr_payload

ARGO_TOKEN, REGISTRY_TOKEN = "argo-token", "registry-token"


@pytest.fixture
def app(tmp_path: Path, bare: Path) -> Iterator[tuple[TestClient, Service]]:
    data = base_config(tmp_path, bare)
    data["argocd"]["notifications_token"] = ARGO_TOKEN
    data["registries"] = [{"host": "registry.example.com", "notifications_token": REGISTRY_TOKEN}]
    service = build_service(parse_config(data, {"PREVIEWD_WEBHOOK_SECRET": SECRET}))
    yield TestClient(create_app(service, run_worker=False)), service
    service.store.close()


def counted(service: Service, source: str, outcome: str) -> float:
    value = service.metrics.registry.get_sample_value(
        "previewd_webhooks_total", {"source": source, "outcome": outcome})
    return value or 0.0


def post_github(client: TestClient, event: str, payload: object) -> tuple[int, dict[str, str]]:
    body = json.dumps(payload).encode()
    response = client.post("/hooks/github", content=body, headers=github_headers(event, body))
    return response.status_code, response.json()


def test_unhandled_github_events_are_answered_not_stored(app: tuple[TestClient, Service]) -> None:
    client, service = app
    push = {"ref": "refs/heads/main", "repository": {"full_name": "acme/shop"}}  # a configured repository
    assert post_github(client, "push", push) == (200, {"status": "ignored", "reason": "event kind not handled"})
    installation = {"action": "created", "installation": {"id": 1}}
    assert post_github(client, "installation", installation)[0] == 200
    assert service.store.count_events() == 0
    assert counted(service, "github", "ignored") == 2
    status, answer = post_github(client, "pull_request", pr_payload())
    assert (status, answer["status"]) == (202, "accepted")
    assert service.store.count_events() == 1


def test_too_large_and_malformed_bodies_are_counted_on_every_hook(app: tuple[TestClient, Service]) -> None:
    client, service = app
    limit = service.config.server.max_body_bytes
    hooks: dict[str, tuple[str, Callable[[bytes], dict[str, str]]]] = {
        "github": ("/hooks/github", lambda body: github_headers("pull_request", body)),
        "argocd": ("/hooks/argocd", lambda _body: {"Authorization": f"Bearer {ARGO_TOKEN}"}),
        "registry-distribution": ("/hooks/registry/distribution",
                                  lambda _body: {"Authorization": f"Bearer {REGISTRY_TOKEN}"}),
    }
    for source, (path, headers) in hooks.items():
        big = b"{" + b" " * limit + b"}"
        assert client.post(path, content=big, headers=headers(big)).status_code == 413, source
        for bad in (b"{not json", b"[1, 2]"):
            assert client.post(path, content=bad, headers=headers(bad)).status_code == 400, source
        assert (counted(service, source, "too_large"), counted(service, source, "bad_request")) == (1, 2), source
    assert service.store.count_events() == 0


def test_github_signature_is_checked_before_the_body_is_parsed(app: tuple[TestClient, Service]) -> None:
    client, service = app
    headers = {**github_headers("pull_request", b"{}"), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert client.post("/hooks/github", content=b"{not json", headers=headers).status_code == 401
    assert counted(service, "github", "unauthorized") == 1 and counted(service, "github", "bad_request") == 0


def test_a_non_ascii_signature_or_token_is_refused_not_a_crash(app: tuple[TestClient, Service]) -> None:
    # hmac.compare_digest raises TypeError on non-ASCII str: that was a 500 without any secret.
    client, service = app
    body = json.dumps(pr_payload()).encode()
    for signature in (b"sha256=\xff", "sha256=é".encode(), b"\xff" * 71):
        headers = {**github_headers("pull_request", body), "X-Hub-Signature-256": signature}
        assert client.post("/hooks/github", content=body, headers=headers).status_code == 401
    for path in ("/hooks/argocd", "/hooks/registry/distribution", "/api/releases/promote"):
        headers = {"Authorization": b"Bearer \xff" + REGISTRY_TOKEN.encode()}
        assert client.post(path, content=b"{}", headers=headers).status_code in (401, 404), path
    assert counted(service, "github", "unauthorized") == 3
    assert service.store.count_events() == 0


def test_deeply_nested_bodies_get_400_on_every_hook(app: tuple[TestClient, Service]) -> None:
    client, service = app
    deep = b"[" * 60_000  # under every hook's size limit, far over the parser's recursion limit
    just_over = b'{"a": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
    bearer = {"Authorization": f"Bearer {REGISTRY_TOKEN}"}
    hooks = {"/hooks/github": lambda body: github_headers("pull_request", body),
             "/hooks/argocd": lambda _body: {"Authorization": f"Bearer {ARGO_TOKEN}"},
             **{f"/hooks/registry/{kind}": lambda _body: bearer for kind in PARSERS}}
    for path, headers in hooks.items():
        for body in (deep, just_over):
            response = client.post(path, content=body, headers=headers(body))
            assert response.status_code == 400, (path, response.text)
            assert f"deeper than {MAX_JSON_DEPTH}" in response.json()["detail"]
    assert service.store.count_events() == 0


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
        app: tuple[TestClient, Service]) -> None:
    client, service = app
    limit = service.config.server.max_body_bytes

    def body() -> Iterator[bytes]:
        raise AssertionError("the body was read")
        yield b""

    headers = {**github_headers("pull_request", b"{}"), "Content-Length": str(limit + 1)}
    response = client.post("/hooks/github", content=body(), headers=headers)
    assert (response.status_code, response.headers["connection"]) == (413, "close")
    assert counted(service, "github", "too_large") == 1


def test_unauthenticated_bodies_over_the_cap_get_503_with_retry_after(
        app: tuple[TestClient, Service]) -> None:
    client, service = app
    slots: BodySlots = client.app.state.body_slots  # type: ignore[attr-defined]
    held = [slots.claim() for _ in range(MAX_UNAUTHENTICATED_BODIES)]
    for claim in held:
        claim.__enter__()
    body = json.dumps(pr_payload()).encode()
    response = client.post("/hooks/github", content=body, headers=github_headers("pull_request", body))
    assert response.status_code == 503 and response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert counted(service, "github", "busy") == 1
    # Authenticated senders (a bearer token checked before the body) are not capped.
    registry = client.post("/hooks/registry/distribution", content=b'{"events": []}',
                           headers={"Authorization": f"Bearer {REGISTRY_TOKEN}"})
    assert registry.status_code < 500 and registry.status_code != 503
    held[0].__exit__(None, None, None)
    assert client.post("/hooks/github", content=body,
                       headers=github_headers("pull_request", body)).status_code == 202


def test_every_refused_webhook_is_logged_with_its_delivery_and_reason(
        app: tuple[TestClient, Service], caplog: pytest.LogCaptureFixture) -> None:
    client, _service = app
    body = json.dumps(pr_payload()).encode()
    forged = {**github_headers("pull_request", body, delivery="abc-123"),
              "X-Hub-Signature-256": "sha256=" + "0" * 64}
    hostile = {**github_headers("pull_request", b"[" * 10_000, delivery="x\n" + "y" * 500)}
    with caplog.at_level("WARNING", logger="previewd.webhooks"):
        client.post("/hooks/github", content=body, headers=forged)
        client.post("/hooks/github", content=b"[" * 10_000, headers=hostile)
        client.post("/hooks/argocd", content=b"{}", headers={"Authorization": "Bearer wrong"})
        client.post("/hooks/registry/distribution", content=b"{}")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == ("refused github webhook: 401 missing or invalid X-Hub-Signature-256 "
                        "(delivery abc-123)")
    assert lines[1].startswith(f"refused github webhook: 400 JSON nests deeper than {MAX_JSON_DEPTH}")
    assert "(delivery x?" + "y" * (MAX_LOGGED_DELIVERY_ID - 2) + "...)" in lines[1]
    assert lines[2:] == ["refused argocd webhook: 401 missing or invalid bearer token (delivery -)",
                         "refused registry-distribution webhook: 401 missing or invalid bearer token "
                         "(delivery -)"]
    assert not any(secret in "".join(lines) for secret in (SECRET, ARGO_TOKEN, REGISTRY_TOKEN, "wrong"))
