"""End to end with a real registry: ``docker-registry`` on loopback notifying a real
``previewd serve``, images built in Python and pushed with ``skopeo``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.registry_support import OciLayout, Registry, skopeo_push
from tests.support import (
    Serve,
    base_config,
    free_port,
    pr_payload,
    remote_files,
    remote_log,
    wait_for,
    write_config,
)

TOKEN = "registry-hook-token"
SHA1, SHA2 = "1" * 40, "2" * 40
BUNDLE_IMAGE = "ghcr.io/acme/shop"


@dataclass
class Stack:
    registry: Registry
    serve: Serve
    bare: Path
    layout: OciLayout

    @property
    def repository(self) -> str:
        return f"{self.registry.host}/acme/shop"

    def push(self, tag: str, multi_arch: bool = False, content: bytes | None = None) -> str:
        digest = (self.layout.add_index(tag, content=content) if multi_arch
                  else self.layout.add_image(tag, content=content))
        skopeo_push(self.layout, tag, self.repository)
        return digest

    def preview(self, number: int = 42) -> dict[str, Any] | None:
        previews = self.serve.get("/api/previews").json()["previews"]
        return next((p for p in previews if p["number"] == number), None)

    def detail(self, key: str, number: int = 42) -> dict[str, Any]:
        """``image_wait`` or ``tag_cleanup`` of a preview as /api/previews shows it ({} if none)."""
        preview = self.preview(number) or {}
        value: dict[str, Any] = preview.get(key) or {}
        return value

    def state(self, number: int = 42) -> str | None:
        p = self.preview(number)
        return p["state"] if p else None

    def pinned(self, number: int = 42) -> list[str]:
        """The Kustomize image overrides committed for PR ``number`` ([] if not committed)."""
        path = f"previews/acme/shop/pr-{number}/application.yaml"
        files = remote_files(self.bare, path)
        if path not in files:
            return []
        app = yaml.safe_load(files[path])
        images: list[str] = app["spec"]["sources"][0].get("kustomize", {}).get("images", [])
        return images

    def accepted_notifications(self) -> float:
        for line in self.serve.get("/metrics").text.splitlines():
            if line.startswith('previewd_webhooks_total{outcome="accepted",source="registry-'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def stack_config(tmp: Path, bare: Path, port: int, registry: Registry,
                 **repo_overrides: Any) -> dict[str, Any]:
    config = base_config(tmp, bare, port)
    repo = config["repositories"][0]
    repo["images"] = [{"name": BUNDLE_IMAGE, "repository": f"{registry.host}/acme/shop",
                       "tag": "pr-{number}-{sha}"}]
    repo["cleanup_tags"] = True
    repo.update(repo_overrides)
    config["registries"] = [{"host": registry.host, "insecure": True,
                             "notifications_token": TOKEN}]
    return config


@pytest.fixture
def stack(tmp_path: Path, bare: Path, port: int) -> Iterator[Stack]:
    registry = Registry(tmp_path / "registry", notify_url=f"http://127.0.0.1:{port}/hooks/registry/distribution",
                        notify_token=TOKEN).start()
    serve = Serve(write_config(tmp_path, stack_config(tmp_path, bare, port, registry)),
                  tmp_path, port).start()
    try:
        yield Stack(registry, serve, bare, OciLayout(tmp_path / "oci"))
    finally:
        serve.stop()
        registry.stop()


def open_pr(stack: Stack, number: int = 42, sha: str = SHA1, at: str = "2026-01-01T00:00:01Z",
            name: str = "pull_request.opened.1.json") -> None:
    response = stack.serve.post("pull_request", pr_payload(name, number=number, sha=sha, updated_at=at))
    assert response.status_code == 202


def test_waits_for_the_image_then_pins_the_registry_digest(stack: Stack) -> None:
    open_pr(stack)
    wait_for(lambda: stack.state() == "waiting-for-image")
    preview = stack.preview()
    assert preview is not None and not preview["synced"]
    assert preview["image_wait"]["missing"] == f"{stack.repository}:pr-42-{SHA1}"
    assert remote_log(stack.bare) == []  # converge ran and committed nothing

    digest = stack.push(f"pr-42-{SHA1}")
    assert stack.registry.digest("acme/shop", f"pr-42-{SHA1}") == digest
    pinned = wait_for(stack.pinned)
    assert pinned == [f"{BUNDLE_IMAGE}={stack.repository}@{digest}"]
    assert stack.state() == "deploying"
    wait_for(lambda: stack.accepted_notifications() >= 1)  # the registry notified previewd

    # A new head re-enters waiting; the committed preview keeps the old digest meanwhile.
    open_pr(stack, sha=SHA2, at="2026-01-01T00:00:02Z", name="pull_request.synchronize.1.json")
    wait_for(lambda: stack.state() == "waiting-for-image")
    assert stack.pinned() == pinned
    assert len(remote_log(stack.bare)) == 1

    digest2 = stack.push(f"pr-42-{SHA2}", content=b"second build")
    assert digest2 != digest
    wait_for(lambda: stack.pinned() == [f"{BUNDLE_IMAGE}={stack.repository}@{digest2}"])
    assert remote_log(stack.bare)[0] == f"preview(acme/shop#42): update to {SHA2[:7]}"


def test_multi_arch_pins_the_index_digest(stack: Stack) -> None:
    digest = stack.push(f"pr-7-{SHA1}", multi_arch=True)
    assert stack.registry.digest("acme/shop", f"pr-7-{SHA1}") == digest
    open_pr(stack, number=7)
    assert wait_for(lambda: stack.pinned(7)) == [f"{BUNDLE_IMAGE}={stack.repository}@{digest}"]


def test_registry_down_is_retried_and_nothing_is_lost(stack: Stack) -> None:
    stack.registry.stop()
    open_pr(stack)
    error = wait_for(lambda: stack.detail("image_wait").get("error"))
    assert stack.state() == "waiting-for-image"
    assert "registry" in error and "refused" in error
    assert remote_log(stack.bare) == []

    stack.registry.start()  # same port, same storage
    digest = stack.push(f"pr-42-{SHA1}")
    assert wait_for(stack.pinned) == [f"{BUNDLE_IMAGE}={stack.repository}@{digest}"]


def test_teardown_deletes_only_this_prs_tags(stack: Stack) -> None:
    old = stack.push(f"pr-42-{SHA1}", content=b"old build")
    shared = stack.push(f"pr-42-{SHA2}", content=b"release candidate")
    stack.push("stable", content=b"release candidate")  # same digest as a PR tag
    stack.push("main", content=b"main build")
    stack.push(f"pr-4-{SHA1}", content=b"another PR")
    open_pr(stack, sha=SHA2)
    wait_for(stack.pinned)

    closed = pr_payload("pull_request.closed.1.json", sha=SHA2, updated_at="2026-01-01T00:00:09Z")
    assert stack.serve.post("pull_request", closed).status_code == 202
    wait_for(lambda: stack.detail("tag_cleanup").get("pending") is False)
    assert remote_log(stack.bare)[0] == "preview(acme/shop#42): delete (PR closed)"
    assert stack.registry.tags("acme/shop") == sorted(["main", "stable", f"pr-4-{SHA1}",
                                                       f"pr-42-{SHA2}"])
    assert stack.registry.digest("acme/shop", "stable") == shared
    assert stack.registry.digest("acme/shop", f"pr-42-{SHA1}") is None
    job = stack.detail("tag_cleanup")
    assert job["deleted"] == [f"{stack.repository}:pr-42-{SHA1}"]
    assert job["kept"] == [f"{stack.repository}:pr-42-{SHA2} (same digest as tag stable)"]
    assert old != shared


def test_timeout_fails_naming_the_image_and_tag(tmp_path: Path, bare: Path, port: int) -> None:
    with Registry(tmp_path / "registry", port=free_port()) as registry:
        config = stack_config(tmp_path, bare, port, registry, image_wait_timeout="1s")
        serve = Serve(write_config(tmp_path, config), tmp_path, port).start()
        try:
            serve.post("pull_request", pr_payload(sha=SHA1))
            # The list is empty until the worker has taken the event: wait for the state, not an index.
            wait_for(lambda: [p["state"] for p in serve.get("/api/previews").json()["previews"]] == ["failed"])
            (preview,) = serve.get("/api/previews").json()["previews"]
            assert preview["image_wait"]["missing"] == f"{registry.host}/acme/shop:pr-42-{SHA1}"
            assert preview["image_wait"]["failed"] is True
            assert preview["synced"]  # not re-checked any more
            assert remote_log(bare) == []
        finally:
            serve.stop()


def test_registry_hooks_authorise_store_once_and_refuse_bad_requests(stack: Stack) -> None:
    url = "/hooks/registry/distribution"
    body = b'{"events": []}'

    def post(headers: dict[str, str], content: bytes = body, path: str = url) -> int:
        return httpx.post(stack.serve.url + path, content=content, headers=headers,
                          timeout=10).status_code

    assert post({}) == 401
    assert post({"Authorization": "Bearer wrong"}) == 401
    assert post({"Authorization": f"Basic {TOKEN}"}) == 401
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert post(good, b"{not json") == 400
    assert post(good, b"x" * (5 * 1024 * 1024 + 1)) == 413
    assert post(good, path="/hooks/registry/nexus") == 404
    assert post(good, path="/hooks/registry/quay") == 400  # a Distribution body is no Quay push
    assert post(good, b'{"events": 5}') == 400
    assert post(good) == 200  # nothing pushed: answered, not stored

    harbor = json.dumps({"type": "PUSH_ARTIFACT", "event_data": {
        "resources": [{"digest": "sha256:" + "0" * 64, "tag": f"pr-9-{SHA1}",
                       "resource_url": f"{stack.repository}:pr-9-{SHA1}"}],
        "repository": {"repo_full_name": "acme/shop"}}}).encode()
    assert post(good, harbor, "/hooks/registry/harbor") == 202
    assert post(good, harbor, "/hooks/registry/harbor") == 200  # redelivery: stored once
    assert post({"Authorization": "Bearer wrong"}, harbor, "/hooks/registry/harbor") == 401


def test_cleanup_failure_never_blocks_teardown_and_is_retried(stack: Stack) -> None:
    stack.push(f"pr-42-{SHA1}")
    stack.push("main", content=b"main build")
    open_pr(stack)
    wait_for(stack.pinned)
    stack.registry.stop()
    closed = pr_payload("pull_request.closed.1.json", sha=SHA1, updated_at="2026-01-01T00:00:09Z")
    assert stack.serve.post("pull_request", closed).status_code == 202
    wait_for(lambda: remote_log(stack.bare)[0] == "preview(acme/shop#42): delete (PR closed)")
    job = wait_for(lambda: stack.detail("tag_cleanup").get("error") and stack.detail("tag_cleanup"))
    assert job["pending"] is True and "registry" in job["error"]
    assert stack.state() == "torn-down"

    stack.registry.start()
    wait_for(lambda: stack.detail("tag_cleanup").get("pending") is False, timeout=30)
    assert stack.registry.tags("acme/shop") == ["main"]


def test_without_notifications_backoff_polling_still_commits(tmp_path: Path, bare: Path,
                                                             port: int) -> None:
    with Registry(tmp_path / "registry") as registry:  # no notification endpoint
        serve = Serve(write_config(tmp_path, stack_config(tmp_path, bare, port, registry)),
                      tmp_path, port).start()
        stack = Stack(registry, serve, bare, OciLayout(tmp_path / "oci"))
        try:
            open_pr(stack)
            wait_for(lambda: stack.state() == "waiting-for-image")
            digest = stack.push(f"pr-42-{SHA1}")
            assert wait_for(stack.pinned) == [f"{BUNDLE_IMAGE}={stack.repository}@{digest}"]
            assert stack.accepted_notifications() == 0
        finally:
            serve.stop()


def test_push_while_previewd_is_down_is_committed_after_restart(stack: Stack) -> None:
    open_pr(stack)
    wait_for(lambda: stack.state() == "waiting-for-image")
    stack.serve.kill()  # SIGKILL: the registry's notification cannot be delivered now
    digest = stack.push(f"pr-42-{SHA1}")
    stack.serve.start()
    assert wait_for(stack.pinned) == [f"{BUNDLE_IMAGE}={stack.repository}@{digest}"]
