"""The three webhook endpoints in process: what is stored, what is only answered, and how
every refusal is counted (one body reader for all of them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from previewd.http.app import create_app
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
