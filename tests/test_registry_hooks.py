"""/hooks/registry/<kind>[/<token>] in process (every kind with its documented payload, shape
errors answered 400, tokens in the path, kinds that must agree with the intake handlers), the
access log that never shows a path token, and GHCR package events routed to every consumer."""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from previewd.adapters.store.releases import QueuedPush
from previewd.http import registry_hooks
from previewd.http.app import create_app
from previewd.jobs import intake
from previewd.jobs.releases import controller_of
from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.release_support import app_env, env_path, state_repo
from tests.support import SECRET, base_config, fixture, free_port, github_headers, wait_for

HOST = "registry.example.com"
TOKEN = "registry-token"
PAYLOADS = Path(__file__).parent / "data" / "registry-payloads"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def documented(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def make_service(tmp: Path, bare: Path, **extra: Any) -> Service:
    data = base_config(tmp, bare)
    data["registries"] = [{"host": HOST, "notifications_token": TOKEN}]
    data.update(extra)
    return build_service(parse_config(data, {"PREVIEWD_WEBHOOK_SECRET": SECRET}))


@pytest.fixture
def client(tmp_path: Path, bare: Path) -> Iterator[tuple[TestClient, Service]]:
    service = make_service(tmp_path, bare)
    yield TestClient(create_app(service, run_worker=False)), service
    service.store.close()


@pytest.mark.parametrize(("kind", "payload", "status"), [
    ("distribution", "distribution-push.json", 200),  # untagged manifest + blob: no hint
    ("distribution", "distribution-pull.json", 200),
    ("harbor", "harbor-push-tag.json", 202),
    ("harbor", "harbor-push-digest.json", 200),  # the digest in "tag" is no tag
    ("harbor", "harbor-cloudevents-push.json", 200),  # was answered 200 and ignored: now parsed
    ("harbor", "harbor-cloudevents-delete.json", 200),
    ("quay", "quay-repo-push.json", 202),
    ("acr", "acr-push.json", 202),
    ("acr", "acr-chart-push.json", 200),
    ("dockerhub", "dockerhub-push.json", 202),
    ("artifactory", "artifactory-docker-pushed.json", 202),
    ("artifactory", "artifactory-artifact-deployed.json", 200),
])
def test_every_kind_accepts_its_documented_payload(client: tuple[TestClient, Service], kind: str,
                                                   payload: str, status: int) -> None:
    http, service = client
    response = http.post(f"/hooks/registry/{kind}", content=documented(payload), headers=BEARER)
    assert response.status_code == status, response.text
    assert service.store.count_events() == (1 if status == 202 else 0)


def test_cloudevents_tagged_push_is_stored(client: tuple[TestClient, Service]) -> None:
    http, service = client
    event = json.loads(documented("harbor-cloudevents-push.json"))
    event["data"]["resources"][0]["tag"] = "v1"
    assert http.post("/hooks/registry/harbor", json=event, headers=BEARER).status_code == 202
    (stored,) = service.store.pending_events()
    assert (stored.source, stored.kind) == ("registry", "harbor")
    assert json.loads(stored.body)["registry"] == HOST


@pytest.mark.parametrize(("kind", "body", "reason"), [
    ("distribution", b'{"events": 5}', "events"),
    ("harbor", b'{"type":"PUSH_ARTIFACT","event_data":{"resources":5}}', "resources"),
    ("quay", documented("dockerhub-push.json"), "not a Quay repo_push notification"),
    ("dockerhub", documented("quay-repo-push.json"), "not a Docker Hub notification"),
    ("acr", documented("harbor-push-tag.json"), "not a Azure Container Registry notification"),
    ("artifactory", b"{}", "not a Artifactory docker notification"),
])
def test_a_malformed_authenticated_body_is_400_with_the_reason(
        client: tuple[TestClient, Service], kind: str, body: bytes, reason: str) -> None:
    http, service = client
    response = http.post(f"/hooks/registry/{kind}", content=body, headers=BEARER)
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]
    assert service.store.count_events() == 0


def test_the_token_may_be_the_last_path_segment(client: tuple[TestClient, Service]) -> None:
    http, service = client
    quay = documented("quay-repo-push.json")
    assert http.post(f"/hooks/registry/quay/{TOKEN}", content=quay).status_code == 202
    for wrong in ("wrong", TOKEN + "x", "%C3%A9t%C3%A9", "%FF%FE", "%ED%A0%80", "t" * 5000):
        assert http.post(f"/hooks/registry/quay/{wrong}", content=quay).status_code == 401, wrong
    nonascii = {"Authorization": b"Bearer " + "é".encode("latin-1")}
    assert http.post("/hooks/registry/quay", content=quay, headers=nonascii).status_code == 401
    assert http.post(f"/hooks/registry/nope/{TOKEN}", content=quay).status_code == 404
    assert service.store.count_events() == 1


def test_registry_kinds_must_have_intake_handlers(monkeypatch: pytest.MonkeyPatch,
                                                  client: tuple[TestClient, Service]) -> None:
    """One routing table: every registry format is routed with its parser and its handler."""
    _http, service = client
    assert {k for s, k in intake.HANDLERS if s == "registry"} == set(registry_hooks.PARSERS)
    routes = dict(intake.ROUTES)
    del routes[("registry", "quay")]  # a format that nobody handles
    monkeypatch.setattr(registry_hooks, "ROUTES", routes)
    with pytest.raises(RuntimeError, match="registry kinds disagree"):
        create_app(service, run_worker=False)
    routes = dict(intake.ROUTES)
    routes[("registry", "quay")] = intake.Route(routes[("registry", "quay")].handle)  # handled, never parsed
    monkeypatch.setattr(registry_hooks, "ROUTES", routes)
    with pytest.raises(RuntimeError, match="registry kinds disagree"):
        create_app(service, run_worker=False)
    routes = {key: route for key, route in intake.ROUTES.items() if key != ("github", "package")}
    monkeypatch.setattr(registry_hooks, "ROUTES", routes)
    with pytest.raises(RuntimeError, match="GitHub package events"):
        create_app(service, run_worker=False)


def test_path_tokens_never_reach_the_access_log(client: tuple[TestClient, Service],
                                                caplog: pytest.LogCaptureFixture) -> None:
    _http, service = client
    port = free_port()
    # uvicorn's own access log, propagated to the root logger so the test sees each line.
    server = uvicorn.Server(uvicorn.Config(create_app(service, run_worker=False), port=port,
                                           log_config=None, access_log=True))
    thread = threading.Thread(target=server.run, daemon=True)
    caplog.set_level(logging.INFO)
    thread.start()
    try:
        wait_for(lambda: server.started)
        url = f"http://127.0.0.1:{port}/hooks/registry/quay"
        assert httpx.post(f"{url}/{TOKEN}", content=documented("quay-repo-push.json")).status_code == 202
        assert httpx.post(f"{url}/{TOKEN}?x=1", content=b"{").status_code == 400
        wait_for(lambda: sum("/hooks/registry/quay/***" in r.getMessage() for r in caplog.records) >= 2)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    server_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert server_lines and all(TOKEN not in line for line in server_lines)


def test_scrubber_keeps_everything_but_the_token() -> None:
    assert registry_hooks.scrub('"POST /hooks/registry/quay/s3cr%C3%A9t?x=1 HTTP/1.1" 202') == (
        '"POST /hooks/registry/quay/***?x=1 HTTP/1.1" 202')
    assert registry_hooks.scrub("POST /hooks/registry/quay HTTP/1.1") == "POST /hooks/registry/quay HTTP/1.1"


# -- GHCR package events ---------------------------------------------------------------------

GHCR_IMAGE = "ghcr.io/codertocat/hello-world"


def ghcr_push(event: str = "package", tag: str = "1.0") -> dict[str, Any]:
    """GitHub's recorded package example, made a tagged container version of GHCR_IMAGE; its
    repository (Codertocat/hello-world-npm) is not under ``repositories[]``."""
    payload = fixture("package.published.2.json")
    package = payload.pop("package")
    package["package_type"] = "CONTAINER"
    package["package_version"]["container_metadata"]["tag"]["name"] = tag
    package["package_version"]["package_url"] = f"{GHCR_IMAGE}:{tag}"
    payload[event] = package
    return payload


def post_github(http: TestClient, event: str, payload: dict[str, Any]) -> int:
    body = json.dumps(payload).encode()
    return http.post("/hooks/github", content=body, headers=github_headers(event, body)).status_code


def releases_config(tmp: Path, claimed: str) -> dict[str, Any]:
    state = state_repo(tmp, {env_path(): (app_env(claimed), None)})
    return {"gitops": {"url": str(state), "branch": "main", "path": "workspaces",
                       "workdir": str(tmp / "state-work")},
            "environments": ["dev", "staging", "prod"], "poll_interval": "1h"}


@pytest.mark.parametrize("event", ["package", "registry_package"])
def test_ghcr_push_of_a_release_only_repository_reaches_the_release_controller(
        tmp_path: Path, bare: Path, event: str) -> None:
    service = make_service(tmp_path, bare, releases=releases_config(tmp_path, GHCR_IMAGE))
    try:
        http = TestClient(create_app(service, run_worker=False))
        assert post_github(http, event, ghcr_push(event)) == 202
        assert service.worker.process_events() == 1
        controller = controller_of(service.ctx)
        assert controller is not None
        queued: list[QueuedPush] = controller.store.queued()
        assert [(q.registry, q.repository, q.tag) for q in queued] == [
            ("ghcr.io", "codertocat/hello-world", "1.0")]
    finally:
        service.store.close()


def test_ghcr_push_reaches_previews_whatever_repository_published_it(tmp_path: Path, bare: Path) -> None:
    data = base_config(tmp_path, bare)
    data["repositories"][0]["images"] = [{"name": GHCR_IMAGE, "tag": "pr-{number}-{sha}"}]
    service = build_service(parse_config(data, {"PREVIEWD_WEBHOOK_SECRET": SECRET}))
    try:
        http = TestClient(create_app(service, run_worker=False))
        assert post_github(http, "package", ghcr_push(tag="pr-1-" + "a" * 40)) == 202
        other = ghcr_push()
        other["package"]["package_version"]["package_url"] = "ghcr.io/someone/else:1.0"
        assert post_github(http, "package", other) == 200  # nobody claims it: not stored
        assert service.store.count_events() == 1
    finally:
        service.store.close()


def test_ghcr_push_nobody_claims_is_not_stored(client: tuple[TestClient, Service]) -> None:
    http, service = client
    assert post_github(http, "package", ghcr_push()) == 200
    untagged = copy.deepcopy(ghcr_push())
    untagged["package"]["package_version"]["container_metadata"]["tag"]["name"] = ""
    untagged["package"]["package_version"]["package_url"] = f"{GHCR_IMAGE}:"
    assert post_github(http, "package", untagged) == 200
    assert service.store.count_events() == 0
