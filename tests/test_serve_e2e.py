"""End to end: a real ``previewd serve`` process, signed real payloads, a real bare remote."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    SECRET,
    Serve,
    base_config,
    github_headers,
    pr_payload,
    remote_files,
    remote_log,
    wait_for,
    write_config,
)

PREFIX = "previews/acme/shop/pr-42"
SHA1, SHA2 = "1" * 40, "2" * 40


@pytest.fixture
def server(tmp_path: Path, bare: Path, port: int) -> Iterator[Serve]:
    config = write_config(tmp_path, base_config(tmp_path, bare, port))
    serve = Serve(config, tmp_path, port).start()
    yield serve
    serve.stop()


def idle(serve: Serve) -> bool:
    """True once previewd has processed every event and converged every preview."""
    previews = serve.get("/api/previews").json()["previews"]
    return all(p["synced"] for p in previews)


def settle(serve: Serve, bare: Path, commits: int) -> list[str]:
    wait_for(lambda: len(remote_log(bare)) >= commits and idle(serve))
    return remote_log(bare)


def test_lifecycle_opened_synchronize_unlabeled(server: Serve, bare: Path) -> None:
    assert server.post("pull_request", pr_payload(sha=SHA1, updated_at="2026-01-01T00:00:01Z")).status_code == 202
    assert settle(server, bare, 1) == [f"preview(acme/shop#42): create at {SHA1[:7]}"]
    files = remote_files(bare, PREFIX)
    assert f"{PREFIX}/application.yaml" in files and f"{PREFIX}/baseline/namespace.yaml" in files

    sync = pr_payload("pull_request.synchronize.1.json", sha=SHA2, updated_at="2026-01-01T00:00:02Z")
    assert server.post("pull_request", sync).status_code == 202
    log = settle(server, bare, 2)
    assert log[0] == f"preview(acme/shop#42): update to {SHA2[:7]}"
    assert SHA2.encode() in remote_files(bare, PREFIX)[f"{PREFIX}/application.yaml"]

    unlabeled = pr_payload("pull_request.unlabeled.1.json", sha=SHA2, labels=(),
                           updated_at="2026-01-01T00:00:03Z")
    server.post("pull_request", unlabeled)
    assert settle(server, bare, 3)[0] == "preview(acme/shop#42): delete (label removed)"
    assert remote_files(bare, PREFIX) == {}
    (preview,) = server.get("/api/previews").json()["previews"]
    assert preview["state"] == "torn-down"
    assert preview["decision"] == {"allowed": False, "reason": "label 'preview' is not set",
                                   "code": "no-label"}


def test_closed_removes_and_replays_do_not_resurrect(server: Serve, bare: Path) -> None:
    opened = pr_payload(sha=SHA1, updated_at="2026-01-01T00:00:01Z")
    server.post("pull_request", opened, delivery="d-open")
    settle(server, bare, 1)
    closed = pr_payload("pull_request.closed.1.json", sha=SHA1, updated_at="2026-01-01T00:00:05Z")
    server.post("pull_request", closed)
    assert settle(server, bare, 2)[0] == "preview(acme/shop#42): delete (PR closed)"
    # The same opened event again (new delivery id) and a late synchronize: both older.
    server.post("pull_request", opened, delivery="d-open-again")
    late = pr_payload("pull_request.synchronize.1.json", sha=SHA2, updated_at="2026-01-01T00:00:05Z")
    server.post("pull_request", late)
    wait_for(lambda: idle(server))
    assert len(remote_log(bare)) == 2
    assert server.get("/api/previews").json()["previews"][0]["state"] == "torn-down"


@pytest.mark.parametrize(
    "name, fields",
    [
        ("fork", {"head": "fork"}),
        ("bot", {"user": {"login": "renovate[bot]", "type": "Bot"}}),
        ("draft", {"draft": True}),
        ("no label", {"labels": []}),
        ("excluded", {"labels": [{"name": "preview"}, {"name": "no-preview"}]}),
    ],
)
def test_untrusted_or_untriggered_prs_get_nothing(server: Serve, bare: Path, name: str,
                                                  fields: dict[str, object]) -> None:
    payload = pr_payload(sha=SHA1)
    pr = payload["pull_request"]
    if fields.get("head") == "fork":
        pr["head"]["repo"]["full_name"] = "mallory/shop"
    else:
        pr.update(fields)
    assert server.post("pull_request", payload).status_code == 202
    wait_for(lambda: server.get("/api/previews").json()["previews"])
    (preview,) = server.get("/api/previews").json()["previews"]
    assert not preview["decision"]["allowed"] and preview["decision"]["reason"]
    assert remote_log(bare) == []


def test_bad_requests_are_refused_and_record_nothing(server: Serve, bare: Path, tmp_path: Path) -> None:
    body = json.dumps(pr_payload(sha=SHA1)).encode()
    headers = github_headers("pull_request", body)
    import httpx

    url = server.url + "/hooks/github"
    forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert httpx.post(url, content=body, headers=forged).status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert httpx.post(url, content=body, headers=unsigned).status_code == 401
    wrong_key = github_headers("pull_request", body, secret="not-" + SECRET)
    assert httpx.post(url, content=body, headers=wrong_key).status_code == 401
    big = b"{" + b" " * (5 * 1024 * 1024 + 1) + b"}"
    assert httpx.post(url, content=big, headers=github_headers("pull_request", big)).status_code == 413
    bad = b"{not json"
    assert httpx.post(url, content=bad, headers=github_headers("pull_request", bad)).status_code == 400
    ping = json.dumps({"zen": "Keep it simple", "hook_id": 1}).encode()
    assert httpx.post(url, content=ping, headers=github_headers("ping", ping)).status_code == 200
    other = pr_payload(repo="someone/else", sha=SHA1)
    assert server.post("pull_request", other).status_code == 200  # acknowledged, ignored
    assert server.get("/api/previews").json()["previews"] == []
    assert remote_log(bare) == []


def test_replayed_delivery_is_processed_once(server: Serve, bare: Path) -> None:
    payload = pr_payload(sha=SHA1)
    assert server.post("pull_request", payload, delivery="same-id").status_code == 202
    replay = server.post("pull_request", payload, delivery="same-id")
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    settle(server, bare, 1)
    assert len(remote_log(bare)) == 1


def test_sigkill_after_202_still_commits_after_restart(tmp_path: Path, bare: Path, port: int) -> None:
    config = write_config(tmp_path, base_config(tmp_path, bare, port))
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")  # pushes fail until the "outage" ends
    hook.chmod(0o755)
    serve = Serve(config, tmp_path, port).start()
    try:
        assert serve.post("pull_request", pr_payload(sha=SHA1)).status_code == 202
        wait_for(lambda: "GitOps write failed" in serve.log.read_text())
        serve.kill()  # SIGKILL: no shutdown handlers run
        assert remote_log(bare) == []
        hook.unlink()
        serve = Serve(config, tmp_path, port).start()
        assert settle(serve, bare, 1) == [f"preview(acme/shop#42): create at {SHA1[:7]}"]
    finally:
        serve.stop()


def test_render_cli_writes_exactly_what_serve_commits(server: Serve, bare: Path, tmp_path: Path) -> None:
    payload = pr_payload(sha=SHA1, created_at="2026-01-01T00:00:00Z")
    server.post("pull_request", payload)
    settle(server, bare, 1)
    out = tmp_path / "rendered"
    subprocess.run(
        [sys.executable, "-m", "previewd.cli.main", "render", "--config", str(server.config_path),
         "--repo", "acme/shop", "--number", "42", "--sha", SHA1, "--label", "preview",
         "--created-at", "2026-01-01T00:00:00Z", "--out", str(out)],
        check=True, env=server.env, capture_output=True,
    )
    rendered = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert rendered == remote_files(bare, PREFIX)
