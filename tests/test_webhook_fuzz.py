"""Every inbound endpoint fuzzed in process (httpx over ASGI) with arbitrary bytes, headers and
JSON shapes, unsigned and correctly signed or authenticated so the fuzz reaches the parsers:
never a 5xx, every accepted event handled or cleanly rejected by the worker, the worker still
commits a normal event afterwards, and everything committed passes the Kubernetes schemas."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from previewd.http.app import create_app
from previewd.http.limits import MAX_JSON_DEPTH
from previewd.http.registry_hooks import PARSERS
from previewd.jobs.intake import HANDLERS
from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.registry_support import Registry
from tests.release_support import app_env, env_path, release_text, state_repo
from tests.schemas import validate_bytes
from tests.support import (
    SECRET,
    Serve,
    base_config,
    fixture,
    github_headers,
    pr_payload,
    remote_files,
    remote_log,
    sign,
    wait_for,
    webhook_examples,
    write_config,
)

ARGO_TOKEN, REGISTRY_TOKEN, API_TOKEN = "argo-fuzz-token", "registry-fuzz-token", "api-fuzz-token"
REGISTRY_HOST = "registry.example.com"
PROMOTE_ENV = env_path()
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
# Header bytes an HTTP client can send at all (no CR, LF or NUL), Latin-1 and beyond included.
header_bytes = st.binary(max_size=80).filter(lambda b: not (set(b) & {0, 10, 13}))
header_names = st.sampled_from(["Content-Type", "X-Hub-Signature-256", "Content-Encoding", "Content-Length",
                                "Transfer-Encoding", "X-GitHub-Event", "X-GitHub-Delivery", "Authorization", "Accept",
                                "X-Hub-Signature", "X-Forwarded-For", "User-Agent"])
extra_headers = st.dictionaries(header_names, header_bytes, max_size=3)
nesting = st.integers(0, 3 * MAX_JSON_DEPTH).map(lambda n: b"[" * n + b"]" * n)


@st.composite
def mutated(draw: st.DrawFn, payload: Any) -> Any:
    """``payload`` with up to three values somewhere inside replaced or removed."""
    doc = copy.deepcopy(payload)
    for _ in range(draw(st.integers(0, 3))):
        holder, key = doc, None
        while isinstance(holder, (dict, list)) and holder and draw(st.booleans()):
            keys = list(holder) if isinstance(holder, dict) else list(range(len(holder)))
            key = draw(st.sampled_from(keys))
            if not isinstance(holder[key], (dict, list)) or not holder[key]:
                break
            holder = holder[key]
        if isinstance(holder, dict) and holder:
            key = draw(st.sampled_from(list(holder)))
            if draw(st.booleans()):
                del holder[key]
            else:
                holder[key] = draw(json_values)
    return doc


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def bodies(*seeds: Any) -> st.SearchStrategy[bytes]:
    """Raw bytes, arbitrary JSON, nesting around the depth limit, and mutations of ``seeds``."""
    shapes: st.SearchStrategy[bytes] = (st.binary(max_size=300) | json_values.map(dumps) | nesting)
    if seeds:
        shapes |= st.sampled_from(seeds).flatmap(mutated).map(dumps)
    return shapes


@dataclass
class Intake:
    """previewd's app in process, its worker stepped by hand."""

    service: Service
    transport: httpx.ASGITransport
    bare: Path

    def send(self, method: str, path: str, content: bytes = b"",
             headers: dict[str, str | bytes] | None = None) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://previewd") as client:
                return await client.request(method, path, content=content, headers=headers)
        return asyncio.run(go())

    def answer(self, method: str, path: str, content: bytes = b"",
               headers: dict[str, str | bytes] | None = None) -> int:
        """The status of one request, which must not be a server error."""
        response = self.send(method, path, content, headers)
        assert response.status_code < 500, (method, path, content[:200], headers, response.text)
        return response.status_code

    def settle(self) -> None:
        """One worker pass; every event must then be handled or rejected, none left crashed."""
        self.service.worker.step()
        assert self.service.store.pending_events() == []

    def still_works(self) -> None:
        """After the fuzz: a normal event is committed, every page renders, every committed
        manifest is one Kubernetes would accept."""
        body = dumps(pr_payload(number=4242, sha="f" * 40, updated_at="2026-06-01T00:00:00Z"))
        assert self.answer("POST", "/hooks/github", body, github_headers("pull_request", body)) == 202
        self.settle()
        assert any("#4242" in subject for subject in remote_log(self.bare))
        for page in ("/api/previews", "/", "/api/status"):
            assert self.send("GET", page).status_code == 200, page
        for name, content in remote_files(self.bare).items():
            if name.endswith((".yaml", ".yml")):
                validate_bytes(content)


def make_intake(tmp: Path, bare: Path, registry: str = REGISTRY_HOST, **extra: Any) -> Intake:
    data = base_config(tmp, bare, **extra)
    data["argocd"]["notifications_token"] = ARGO_TOKEN
    data["registries"] = [{"host": registry, "insecure": True, "notifications_token": REGISTRY_TOKEN}]
    service = build_service(parse_config(data, {"PREVIEWD_WEBHOOK_SECRET": SECRET}))
    return Intake(service, httpx.ASGITransport(app=create_app(service, run_worker=False)), bare)


@pytest.fixture
def intake(tmp_path: Path, bare: Path) -> Iterator[Intake]:
    made = make_intake(tmp_path, bare)
    yield made
    made.service.store.close()


@pytest.fixture
def with_releases(tmp_path: Path, bare: Path, registry: Registry) -> Iterator[Intake]:
    """Releases configured against a real registry and a real state repository."""
    env = app_env(f"{registry.host}/team-a/app1")
    state = state_repo(tmp_path, {PROMOTE_ENV: (env, release_text(env, "0.9", "sha256:" + "0" * 64))})
    releases = {"gitops": {"url": str(state), "branch": "main", "path": "workspaces",
                           "workdir": str(tmp_path / "state-work")},
                "environments": ["dev", "staging", "prod"], "api_token": API_TOKEN, "poll_interval": "1h"}
    made = make_intake(tmp_path, bare, registry=registry.host, releases=releases)
    yield made
    made.service.store.close()


GITHUB_KINDS = sorted(kind for source, kind in HANDLERS if source == "github")


def github_seeds() -> list[tuple[str, Any]]:
    """Real examples of every event kind previewd handles, about the configured repository."""
    seeds: list[tuple[str, Any]] = [("pull_request", pr_payload(name)) for name in (
        "pull_request.opened.1.json", "pull_request.closed.1.json", "pull_request.synchronize.1.json")]
    for kind in GITHUB_KINDS:
        for name in (n for n in webhook_examples() if n.startswith(kind + ".")):
            example = fixture(name)
            if isinstance(example.get("repository"), dict):
                example["repository"]["full_name"] = "acme/shop"
            seeds.append((kind, example))
    return seeds


@st.composite
def github_deliveries(draw: st.DrawFn) -> tuple[str, bytes]:
    """An event kind and a body: mostly a (mutated) example of that kind, else anything."""
    if draw(st.booleans()):
        kind, seed = draw(st.sampled_from(github_seeds()))
        return kind, dumps(draw(mutated(seed)))
    kind = draw(st.sampled_from([*GITHUB_KINDS, "ping", "push", "installation"]) | st.text(max_size=12))
    return kind, draw(bodies())


def test_github_hook_fuzz(intake: Intake) -> None:
    @settings(FUZZ, max_examples=250)
    @given(delivery=github_deliveries(), signed=st.booleans(), delivery_id=header_bytes | st.uuids().map(
        lambda u: str(u).encode()), extra=extra_headers)
    def run(delivery: tuple[str, bytes], signed: bool, delivery_id: bytes, extra: dict[str, bytes]) -> None:
        event, body = delivery
        headers: dict[str, str | bytes] = {**extra, "X-GitHub-Event": event.encode("utf-8", "replace"),
                                           "X-GitHub-Delivery": delivery_id}
        headers.pop("Content-Length", None)  # a wrong length is the server's job (see test_intake_e2e)
        if signed:
            headers["X-Hub-Signature-256"] = sign(body)
        status = intake.answer("POST", "/hooks/github", body, headers)
        if not signed:
            assert status in (401, 413, 400) or "X-Hub-Signature-256" in headers, status
        intake.settle()

    run()
    intake.still_works()


REGISTRY_PAYLOADS = Path(__file__).resolve().parent / "data" / "registry-payloads"


def registry_seeds() -> list[Any]:
    """Every registry's documented notification payload."""
    return [json.loads(path.read_text()) for path in sorted(REGISTRY_PAYLOADS.glob("*.json"))]


def test_registry_hooks_fuzz(intake: Intake) -> None:
    @settings(FUZZ, max_examples=200)
    @given(body=bodies(*registry_seeds()), kind=st.sampled_from(sorted(PARSERS)) | st.text(max_size=8),
           auth=st.sampled_from([b"Bearer " + REGISTRY_TOKEN.encode(), b"Bearer wrong", b""]) | header_bytes,
           path_token=st.none() | st.sampled_from([REGISTRY_TOKEN, "wrong"]) | st.text(max_size=12),
           extra=extra_headers)
    def run(body: bytes, kind: str, auth: bytes, path_token: str | None, extra: dict[str, bytes]) -> None:
        headers: dict[str, str | bytes] = {**extra, "Authorization": auth}
        headers.pop("Content-Length", None)
        path = "/hooks/registry/" + quote(kind, safe="")
        if path_token is not None:  # for registries that cannot send headers (Quay, Docker Hub)
            path += "/" + quote(path_token, safe="")
        status = intake.answer("POST", path, body, headers)
        if REGISTRY_TOKEN not in (path_token, auth.removeprefix(b"Bearer ").decode("latin-1")):
            assert status in (307, 401, 404, 405), status  # 307: a trailing slash redirected
        intake.settle()

    run()
    intake.still_works()


def test_argocd_hook_fuzz(intake: Intake) -> None:
    notification = {"event": "deployed", "application": "shop-pr-42", "revision": "a" * 40}

    @settings(FUZZ, max_examples=120)
    @given(body=bodies(notification), authenticated=st.booleans(), extra=extra_headers)
    def run(body: bytes, authenticated: bool, extra: dict[str, bytes]) -> None:
        headers: dict[str, str | bytes] = {**extra}
        headers.pop("Content-Length", None)
        if authenticated:
            headers["Authorization"] = f"Bearer {ARGO_TOKEN}"
        status = intake.answer("POST", "/hooks/argocd", body, headers)
        assert authenticated or status == 401
        intake.settle()

    run()
    intake.still_works()


API_PATHS = ["/api/previews", "/api/status", "/api/releases/pending", "/api/releases/conflicts", "/",
             "/healthz", "/readyz", "/metrics"]


def test_api_fuzz(with_releases: Intake) -> None:
    intake = with_releases
    promote = {"env": PROMOTE_ENV, "tag": "1.0"}

    @settings(FUZZ, max_examples=150)
    @given(body=bodies(promote, {"env": "x", "digest": "sha256:" + "b" * 64}),
           auth=st.sampled_from([f"Bearer {API_TOKEN}".encode(), b""]) | header_bytes,
           page=st.sampled_from(API_PATHS), query=st.text(max_size=20), extra=extra_headers)
    def run(body: bytes, auth: bytes, page: str, query: str, extra: dict[str, bytes]) -> None:
        headers: dict[str, str | bytes] = {**extra, "Authorization": auth}
        headers.pop("Content-Length", None)
        intake.answer("POST", "/api/releases/promote", body, headers)
        intake.answer("GET", page, headers=headers, content=b"")
        intake.answer("GET", httpx.URL(page, params={"q": query}).raw_path.decode(), headers=headers)

    run()
    intake.still_works()


@pytest.fixture
def serve(tmp_path: Path, bare: Path, port: int) -> Iterator[Serve]:
    data = base_config(tmp_path, bare, port)
    data["argocd"]["notifications_token"] = ARGO_TOKEN
    data["registries"] = [{"host": REGISTRY_HOST, "notifications_token": REGISTRY_TOKEN}]
    server = Serve(write_config(tmp_path, data), tmp_path, port).start()
    yield server
    server.stop()


ENDPOINTS = ["/hooks/github", "/hooks/argocd", *(f"/hooks/registry/{kind}" for kind in sorted(PARSERS)),
             "/api/releases/promote"]


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    """An HTTP/1.1 request with an arbitrary method, target, headers and body bytes."""
    method = draw(st.sampled_from([b"POST", b"GET", b"PUT", b"HEAD"]) | st.binary(min_size=1, max_size=8))
    target = draw(st.sampled_from([e.encode() for e in ENDPOINTS]) | st.binary(max_size=40))
    headers = draw(st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=60)), max_size=4))
    body = draw(st.binary(max_size=200))
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: previewd",
             *(name + b": " + value for name, value in headers), b"Content-Length: " + str(len(body)).encode()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_real_serve_fuzz(serve: Serve, bare: Path) -> None:
    """A smaller run over real sockets: the server itself parses what the fuzz sends."""
    @settings(FUZZ, max_examples=60)
    @given(endpoint=st.sampled_from(ENDPOINTS), body=bodies(*registry_seeds(), *(s for _k, s in github_seeds()[:3])),
           sign_it=st.booleans(), auth=st.sampled_from([f"Bearer {REGISTRY_TOKEN}".encode(),
                                                        f"Bearer {ARGO_TOKEN}".encode()]) | header_bytes,
           extra=extra_headers, raw=raw_requests())
    def run(endpoint: str, body: bytes, sign_it: bool, auth: bytes, extra: dict[str, bytes], raw: bytes) -> None:
        headers: dict[str, str | bytes] = {**extra, "Authorization": auth, "X-GitHub-Event": "pull_request",
                                           "X-GitHub-Delivery": str(uuid.uuid4())}
        headers.pop("Content-Length", None)
        headers.pop("Transfer-Encoding", None)
        if sign_it:
            headers["X-Hub-Signature-256"] = sign(body)
        try:
            response = httpx.post(serve.url + endpoint, content=body, headers=headers, timeout=30)
        except httpx.LocalProtocolError:
            reject()  # a header httpx itself will not send; raw_requests covers the wire
        assert response.status_code < 500, (endpoint, body[:200], headers, response.text)
        with socket.create_connection(("127.0.0.1", serve.port), timeout=30) as sock:
            sock.sendall(raw)
            answer = sock.recv(16)
        assert answer == b"" or (answer.startswith(b"HTTP/1.1 ") and answer[9:10] in b"1234"), (raw, answer)

    run()
    body = dumps(pr_payload(number=4242, sha="f" * 40, updated_at="2026-06-01T00:00:00Z"))
    assert serve.post("pull_request", body).status_code == 202
    wait_for(lambda: any("#4242" in subject for subject in remote_log(bare)), timeout=60)
    assert "Traceback" not in serve.log.read_text()
