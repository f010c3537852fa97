"""End to end: a real ``previewd serve`` talking to FakeGitHub over HTTP, Argo CD hooks, status."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from previewd.core.feedback import marker
from tests.fakes import FakeGitHub
from tests.github_support import ARGO_TOKEN, CLEAN_BUNDLE, env, github_config
from tests.support import REPO, Serve, pr_payload, remote_log, wait_for, write_config

SHA = "3" * 40


def serve(tmp_path: Path, bare: Path, port: int, fake: FakeGitHub, **github: object) -> Serve:
    config = write_config(tmp_path, github_config(tmp_path, bare, fake, port, **github))
    return Serve(config, tmp_path, port, env=env(fake)).start()


def argocd(server: Serve, body: bytes, token: str | None = ARGO_TOKEN) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.url + "/hooks/argocd", content=body, headers=headers, timeout=10)


def sticky(fake: FakeGitHub) -> str:
    (comment,) = fake.comments(REPO, 42)
    assert marker(REPO, 42) in comment["body"]
    return str(comment["body"])


def test_webhooks_disabled_labelled_pr_gets_preview_within_one_resync(
        tmp_path: Path, bare: Path, port: int, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA)
    fake.add_tarball(REPO, SHA, CLEAN_BUNDLE)
    server = serve(tmp_path, bare, port, fake, resync_interval="2s")
    try:
        wait_for(lambda: remote_log(bare) == [f"preview(acme/shop#42): create at {SHA[:7]}"], timeout=30)
        wait_for(lambda: len(fake.comments(REPO, 42)) == 1 and "**deploying**" in sticky(fake))
        status = server.get("/api/status").json()["github"]
        assert status["configured"] is True and status["rate_limit"]["limit"] == 5000
        assert status["resync"]["mass_teardown_guard"]["blocked"] is False
        metrics = server.get("/metrics").text
        assert "previewd_github_rate_limit_remaining" in metrics
    finally:
        server.stop()


def test_opened_webhook_then_argocd_ready_edits_one_comment(
        tmp_path: Path, bare: Path, port: int, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA, updated_at="2026-01-01T00:00:01Z")
    fake.add_tarball(REPO, SHA, CLEAN_BUNDLE)
    server = serve(tmp_path, bare, port, fake)
    try:
        assert server.post("pull_request", pr_payload(sha=SHA, updated_at="2026-01-01T00:00:01Z")).status_code in (
            200, 202)
        wait_for(lambda: fake.comments(REPO, 42) and "**deploying**" in sticky(fake))
        event = {"event": "deployed", "application": "pr-42-shop", "revision": SHA,
                 "health": "Healthy", "sync": "Synced"}
        assert argocd(server, json.dumps(event).encode()).status_code == 202
        wait_for(lambda: "**ready**" in sticky(fake))
        assert "https://shop-pr-42.preview.example.com" in sticky(fake)
        (deployment,) = fake.deployments(REPO)
        wait_for(lambda: fake.deployment_states(REPO, deployment["id"]) == ["in_progress", "success"])
    finally:
        server.stop()


def test_argocd_hook_rejects_bad_token_bad_json_and_oversized(
        tmp_path: Path, bare: Path, port: int, fake: FakeGitHub) -> None:
    server = serve(tmp_path, bare, port, fake)
    try:
        good = json.dumps({"event": "deployed", "application": "x", "revision": SHA}).encode()
        assert argocd(server, good, token=None).status_code == 401
        assert argocd(server, good, token="wrong").status_code == 401
        assert argocd(server, b"{not json").status_code == 400
        assert argocd(server, b"[1, 2]").status_code == 400
        assert argocd(server, b"{" + b" " * 70_000 + b"}").status_code == 413
        assert argocd(server, good).status_code == 202
    finally:
        server.stop()
