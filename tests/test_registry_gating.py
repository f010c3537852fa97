"""Image gating in-process: the resolver's backoff and timeout on a fake clock, the converge
job holding previews, and push hints (GitHub package events) waking them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from previewd.adapters.image_resolver import RegistryImageResolver
from previewd.adapters.registry import ManifestInfo
from previewd.adapters.store.sql import Store
from previewd.config import Config
from previewd.core.events import parse_pull_request_event
from previewd.core.models import Preview, PreviewState
from previewd.errors import TransientError
from previewd.jobs.context import JobContext
from previewd.jobs.converge import converge
from previewd.jobs.intake import HANDLERS
from previewd.jobs.pull_requests import apply_snapshot
from previewd.runtime.workspaces import workspace_for
from previewd.settings import parse_config
from tests.fakes import FakeClock, FakeManifestReader
from tests.support import base_config, pr_payload, remote_files, remote_log

SHA1, SHA2 = "1" * 40, "2" * 40
DIGEST = "sha256:" + "d" * 64
HOST, REPO = "registry.example.com", "acme/shop"


def make_config(tmp: Path, bare: Path, **repo: Any) -> Config:
    data = base_config(tmp, bare)
    data["repositories"][0].update({
        "images": [{"name": "ghcr.io/acme/shop", "repository": f"{HOST}/{REPO}"}],
        "image_wait_timeout": "10m", **repo})
    return parse_config(data, {"PREVIEWD_WEBHOOK_SECRET": "x"})


class Gate:
    """A store, a real GitOps remote, and the resolver on a fake registry and clock."""

    def __init__(self, tmp: Path, bare: Path, **repo: Any) -> None:
        self.config = make_config(tmp, bare, **repo)
        self.store = Store(self.config.store.url)
        self.registry = FakeManifestReader()
        self.clock = FakeClock()
        self.slept: list[float] = []
        self.resolver = RegistryImageResolver(self.registry, clock=self.clock,
                                              sleep=self.slept.append)
        self.ctx = JobContext(self.config, self.store, workspace_for(self.config.gitops), self.resolver)
        self.bare = bare

    def pr(self, sha: str, at: str, name: str = "pull_request.opened.1.json") -> None:
        _action, pr = parse_pull_request_event(pr_payload(name, sha=sha, updated_at=at))
        with self.store.transaction() as conn:
            apply_snapshot(self.config, self.store, conn, pr, "opened")

    def converge(self) -> None:
        converge(self.config, self.store, self.ctx.workspace, self.resolver)

    def preview(self) -> Preview:
        preview = self.store.get_preview("acme/shop", 42)
        assert preview is not None
        return preview

    def push(self, sha: str, digest: str = DIGEST) -> None:
        self.registry.manifests[(HOST, REPO, f"pr-42-{sha}")] = ManifestInfo(digest, None)

    def handle(self, source: str, kind: str, payload: dict[str, Any]) -> None:
        with self.store.transaction() as conn:
            HANDLERS[(source, kind)](self.ctx, conn, payload)

    def hint(self, sha: str) -> None:
        event = {"events": [{"action": "push", "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": DIGEST,
            "repository": REPO, "tag": f"pr-42-{sha}"}}]}
        self.handle("registry", "distribution", {"registry": HOST, "payload": event})


@pytest.fixture
def gate(tmp_path: Path, bare: Path) -> Gate:
    return Gate(tmp_path, bare)


def test_waiting_backs_off_and_never_polls_before_due(gate: Gate) -> None:
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    waiting = gate.preview()
    assert waiting.state == PreviewState.WAITING_FOR_IMAGE and waiting.dirty
    assert waiting.extra["image_wait"]["missing"] == f"{HOST}/{REPO}:pr-42-{SHA1}"
    assert remote_log(gate.bare) == []
    checks = []
    for _ in range(6):  # the worker converges every pass; the registry is asked only when due
        for _ in range(5):
            gate.converge()
        checks.append(len(gate.registry.calls))
        gate.clock.now += 1.0
    # Checked at t0, then due after 1 s (t1), 2 s (t3), 4 s (t7): exponential backoff.
    assert checks == [1, 2, 2, 3, 3, 3]


def test_push_hint_rechecks_now_and_pins_the_digest(gate: Gate) -> None:
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    gate.clock.now += 0.1
    gate.push(SHA1)
    gate.converge()
    assert remote_log(gate.bare) == []  # not due yet, and nobody told us
    gate.hint(SHA1)
    gate.converge()
    preview = gate.preview()
    assert preview.state == PreviewState.DEPLOYING and not preview.dirty
    assert preview.extra.get("image_wait") is None
    app = remote_files(gate.bare)["previews/acme/shop/pr-42/application.yaml"]
    assert f"ghcr.io/acme/shop={HOST}/{REPO}@{DIGEST}".encode() in app


def test_hint_before_the_tag_is_linked_is_rechecked_briefly(gate: Gate) -> None:
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    gate.push(SHA1)
    gate.registry.lag[(HOST, REPO, f"pr-42-{SHA1}")] = 2  # notified, tag not visible yet
    gate.hint(SHA1)
    gate.converge()
    assert gate.preview().deployed_sha == SHA1
    assert len(gate.slept) == 2  # two short pauses, no backoff
    # Without a hint, a 404 is simply a wait (no pauses in the worker).
    gate.pr(SHA2, "2026-01-01T00:00:02Z", "pull_request.synchronize.1.json")
    gate.converge()
    assert len(gate.slept) == 2


def test_new_head_waits_again_while_the_old_preview_stays(gate: Gate) -> None:
    gate.push(SHA1)
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    before = remote_files(gate.bare)
    gate.pr(SHA2, "2026-01-01T00:00:02Z", "pull_request.synchronize.1.json")
    gate.converge()
    preview = gate.preview()
    assert preview.state == PreviewState.WAITING_FOR_IMAGE
    assert preview.deployed_sha == SHA1 and remote_files(gate.bare) == before
    gate.hint(SHA1)  # a late hint for the old build changes nothing
    assert gate.preview().extra["image_wait"]["next_check"] > 0


def test_timeout_fails_then_a_late_push_recovers(gate: Gate) -> None:
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    gate.clock.now += 600
    gate.converge()
    failed = gate.preview()
    assert failed.state == PreviewState.FAILED and not failed.dirty
    assert failed.extra["image_wait"]["failed"] is True
    assert failed.extra["image_wait"]["missing"] == f"{HOST}/{REPO}:pr-42-{SHA1}"
    calls = len(gate.registry.calls)
    gate.converge()
    assert len(gate.registry.calls) == calls  # given up: no more checks
    gate.push(SHA1)
    gate.hint(SHA1)
    gate.converge()
    assert gate.preview().state == PreviewState.DEPLOYING
    assert len(remote_log(gate.bare)) == 1


def test_registry_errors_wait_with_their_retry_after(gate: Gate) -> None:
    gate.registry.error = TransientError("registry registry.example.com: 429", retry_after=30)
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    wait = gate.preview().extra["image_wait"]
    assert wait["next_check"] == gate.clock.now + 30
    assert "429" in wait["error"]


def test_github_package_event_wakes_a_ghcr_preview(tmp_path: Path, bare: Path) -> None:
    gate = Gate(tmp_path, bare, images=[{"name": "ghcr.io/acme/shop"}])
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    assert gate.registry.calls == [("ghcr.io", "acme/shop", f"pr-42-{SHA1}")]
    event = {"action": "published", "registry_package": {
        "name": "shop", "package_type": "CONTAINER", "owner": {"login": "Acme"},
        "package_version": {"package_url": f"ghcr.io/acme/shop:pr-42-{SHA1}",
                            "container_metadata": {"tag": {"name": f"pr-42-{SHA1}"}}}}}
    gate.handle("github", "registry_package", event)
    assert gate.preview().extra["image_wait"]["next_check"] == 0
    gate.registry.manifests[("ghcr.io", "acme/shop", f"pr-42-{SHA1}")] = ManifestInfo(DIGEST, None)
    gate.converge()
    assert gate.preview().deployed_sha == SHA1


def test_previews_without_images_are_not_gated(tmp_path: Path, bare: Path) -> None:
    gate = Gate(tmp_path, bare, images=[])
    gate.pr(SHA1, "2026-01-01T00:00:01Z")
    gate.converge()
    assert gate.registry.calls == [] and gate.preview().deployed_sha == SHA1
    assert replace(gate.preview(), extra={}).state == PreviewState.DEPLOYING


def test_ghcr_cleanup_goes_through_the_packages_api(tmp_path: Path, bare: Path) -> None:
    from previewd.core.ports import PackageVersion
    from previewd.jobs.tag_cleanup import clean_pr_tags
    from tests.fakes import FakeContainerPackages

    config = make_config(tmp_path, bare, images=[{"name": "ghcr.io/acme/shop"}], cleanup_tags=True)
    repo = config.repositories[0]
    packages = FakeContainerPackages()
    packages.versions[("acme", "shop")] = [
        PackageVersion(1, "sha256:1", (f"pr-42-{SHA1}",)),
        PackageVersion(2, "sha256:2", (f"pr-42-{SHA2}", "stable")),
        PackageVersion(3, "sha256:3", ("main",)),
        PackageVersion(4, "sha256:4", (f"pr-4-{SHA1}",)),
        PackageVersion(5, "sha256:5", ()),
    ]
    outcome = clean_pr_tags(FakeManifestReader(), repo, 42, packages)
    assert packages.deleted == [("acme", "shop", 1)]
    assert outcome.deleted == [f"ghcr.io/acme/shop:pr-42-{SHA1}"]
    assert outcome.kept == [f"ghcr.io/acme/shop:pr-42-{SHA2} (same digest as tag stable)"]

    without = clean_pr_tags(FakeManifestReader(), repo, 42, None)
    assert without.deleted == [] and "GitHub Packages API" in without.kept[0]
