"""The bundle check in a running previewd: off the worker loop, durable, and never a proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from previewd.core.models import PreviewState
from previewd.jobs.bundle_check import MAX_CHECK_STARTS, BundleCheckResolver
from previewd.runtime.service import Service
from tests.fakes import FakeGitHub
from tests.github_support import CLEAN_BUNDLE, KUSTOMIZATION, env, github_config, runtime, service_for, settle
from tests.support import REPO, Serve, pr_payload, remote_log, wait_for, write_config
from tests.test_bundle_sandbox import DEPLOYMENT, LoopbackServer

SLOW, FAST = "5" * 40, "6" * 40


@pytest.fixture
def service(tmp_path: Path, bare: Path, fake: FakeGitHub) -> Iterator[Service]:
    svc = service_for(tmp_path, bare, fake)
    yield svc
    svc.store.close()


def serve(tmp_path: Path, bare: Path, port: int, fake: FakeGitHub) -> Serve:
    config = write_config(tmp_path, github_config(tmp_path, bare, fake, port))
    return Serve(config, tmp_path, port, env=env(fake)).start()


def test_a_stalled_check_does_not_delay_another_prs_preview(
        tmp_path: Path, bare: Path, port: int, fake: FakeGitHub) -> None:
    """PR 1's tarball trickles (no timeout fires); PR 2's preview is committed meanwhile."""
    fake.add_pull(REPO, 1, SLOW)
    fake.add_pull(REPO, 2, FAST)
    fake.add_tarball(REPO, SLOW, CLEAN_BUNDLE)
    fake.add_tarball(REPO, FAST, CLEAN_BUNDLE)
    gate = fake.stall_tarball(REPO, SLOW)
    server = serve(tmp_path, bare, port, fake)
    try:
        assert server.post("pull_request", pr_payload(number=1, sha=SLOW)).status_code == 202
        wait_for(lambda: fake.count("GET", f"/_codeload/acme/shop/{SLOW}") == 1, timeout=30)
        assert server.post("pull_request", pr_payload(number=2, sha=FAST)).status_code == 202
        wait_for(lambda: f"preview(acme/shop#2): create at {FAST[:7]}" in remote_log(bare), timeout=60)
        assert not gate.is_set() and not any("#1" in line for line in remote_log(bare))
        gate.set()
        wait_for(lambda: f"preview(acme/shop#1): create at {SLOW[:7]}" in remote_log(bare), timeout=60)
    finally:
        gate.set()
        server.stop()


def test_ssrf_bundle_through_serve_fetches_nothing_and_posts_only_an_excerpt(
        tmp_path: Path, bare: Path, port: int, fake: FakeGitHub) -> None:
    target = LoopbackServer()
    hostile = (KUSTOMIZATION + f"replacements:\n  - path: {target.url}/secret\n"
               "configMapGenerator:\n  - name: c\n    files: [" + target.url + "/x`<b>" + "A" * 300 + "]\n")
    fake.add_pull(REPO, 42, SLOW)
    fake.add_tarball(REPO, SLOW, {"deploy/preview/kustomization.yaml": hostile, "deploy/preview/web.yaml": DEPLOYMENT})
    server = serve(tmp_path, bare, port, fake)
    try:
        assert server.post("pull_request", pr_payload(sha=SLOW)).status_code == 202
        wait_for(lambda: fake.comments(REPO, 42) and "**failed**" in fake.comments(REPO, 42)[0]["body"], timeout=60)
        body = fake.comments(REPO, 42)[0]["body"]
        assert "no-remote-resources" in body and target.hits == [] and remote_log(bare) == []
        findings = body.split("```text")[1].split("```")[0]
        assert "<b>" not in findings and "A" * 100 not in findings
    finally:
        server.stop()
        target.server.shutdown()


def test_a_check_that_never_finishes_fails_instead_of_restarting_forever(
        service: Service, fake: FakeGitHub, bare: Path) -> None:
    """Each start is stored before the check runs; after MAX_CHECK_STARTS starts without a
    verdict (previewd died during each), the SHA fails without another download."""
    state = runtime(service).state
    fake.add_pull(REPO, 42, SLOW)
    fake.add_tarball(REPO, SLOW, CLEAN_BUNDLE)
    for _ in range(MAX_CHECK_STARTS):
        state.start_check(REPO, SLOW)  # what MAX_CHECK_STARTS crashed runs left behind
    assert state.bundle_verdict(REPO, SLOW) is None
    settle(service)
    assert remote_log(bare) == [] and fake.count("GET", "/_codeload/") == 0
    preview = service.store.get_preview(REPO, 42)
    assert preview is not None and preview.state == PreviewState.FAILED
    verdict = state.bundle_verdict(REPO, SLOW)
    assert verdict is not None and not verdict[0] and "never finished" in verdict[1][0]


def test_a_started_check_survives_a_restart_and_counts(service: Service, fake: FakeGitHub, bare: Path) -> None:
    state = runtime(service).state
    fake.add_pull(REPO, 42, SLOW)
    fake.add_tarball(REPO, SLOW, CLEAN_BUNDLE)
    state.start_check(REPO, SLOW)  # one earlier start died
    settle(service)
    assert remote_log(bare) == [f"preview(acme/shop#42): create at {SLOW[:7]}"]
    assert state.bundle_verdict(REPO, SLOW) == (True, [])
    assert isinstance(service.ctx.images, BundleCheckResolver)


def test_a_check_over_its_time_budget_fails_with_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import tarfile

    from previewd.jobs import bundle_check_run

    archive = tmp_path / "repo.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in CLEAN_BUNDLE.items():
            info = tarfile.TarInfo(f"acme-shop-abc/{name}")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    assert bundle_check_run.run_check(archive, "deploy/preview", "acme/shop@abc") == []
    monkeypatch.setattr(bundle_check_run, "CHECK_TIMEOUT", 0.01)  # less than a Python start-up
    (finding,) = bundle_check_run.run_check(archive, "deploy/preview", "acme/shop@abc")
    assert "[check-budget]" in finding and "did not finish" in finding
