"""The mass-teardown guard counts every teardown a resync would cause, whatever the reason, and
a PR object missing a field the policy reads is a malformed answer, never an empty value."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from previewd.core.models import PreviewState
from previewd.runtime.service import Service
from tests.fakes import FakeGitHub
from tests.github_support import CLEAN_BUNDLE, env, github_config, resync_now, runtime, service_for, settle
from tests.support import REPO, Serve, pr_payload, remote_log, wait_for, write_config

MANY = 18  # the resync: 18 open PRs answered without their labels


def states(service: Service, numbers: range | list[int]) -> list[PreviewState]:
    found = [service.store.get_preview(REPO, n) for n in numbers]
    return [p.state if p else PreviewState.NONE for p in found]


def open_prs(fake: FakeGitHub, numbers: range | list[int]) -> None:
    for n in numbers:
        sha = f"{n:040x}"
        fake.add_pull(REPO, n, sha)
        fake.add_tarball(REPO, sha, CLEAN_BUNDLE)


def guard(service: Service) -> dict[str, object]:
    status: dict[str, object] = runtime(service).status_json()["resync"]["mass_teardown_guard"]
    return status


@pytest.fixture
def service(tmp_path: Path, bare: Path, fake: FakeGitHub) -> Iterator[Service]:
    open_prs(fake, range(1, MANY + 1))
    svc = service_for(tmp_path, bare, fake)
    settle(svc)
    assert set(states(svc, range(1, MANY + 1))) == {PreviewState.DEPLOYING}
    yield svc
    svc.store.close()


def test_a_list_whose_prs_lack_labels_is_malformed_and_tears_nothing_down(
        service: Service, fake: FakeGitHub, bare: Path) -> None:
    commits = remote_log(bare)
    for pr in fake.repo(REPO)["pulls"].values():
        del pr["labels"]  # once defaulted to [] ("label removed") for every PR
    resync_now(service)
    settle(service)
    assert set(states(service, range(1, MANY + 1))) == {PreviewState.DEPLOYING}
    assert remote_log(bare) == commits
    status = runtime(service).status_json()["resync"]
    assert status["failed_repositories"] == [REPO] and status["mass_teardown_guard"]["blocked"] is False


@pytest.mark.parametrize("field", ["draft", "user", "head.repo", "updated_at", "state"])
def test_any_missing_policy_field_fails_the_resync_not_the_previews(
        service: Service, fake: FakeGitHub, bare: Path, field: str) -> None:
    commits = remote_log(bare)
    pr = fake.repo(REPO)["pulls"][3]
    parent, _, key = field.rpartition(".")
    del (pr[parent] if parent else pr)[key]
    resync_now(service)
    settle(service)
    assert set(states(service, range(1, MANY + 1))) == {PreviewState.DEPLOYING}
    assert remote_log(bare) == commits


def test_labels_removed_from_every_pr_at_once_are_capped_and_released_by_a_higher_limit(
        service: Service, fake: FakeGitHub, bare: Path, tmp_path: Path) -> None:
    commits = remote_log(bare)
    for n in range(1, MANY + 1):
        fake.update_pull(REPO, n, labels=(), updated_at="2026-01-02T00:00:00Z")  # an explicit, empty list
    resync_now(service)
    settle(service)
    assert set(states(service, range(1, MANY + 1))) == {PreviewState.DEPLOYING}  # none torn down
    assert remote_log(bare) == commits
    status = guard(service)
    assert status["blocked"] is True and f"would tear down {MANY} previews" in str(status["reason"])
    assert status["reasons"] == {f"{REPO}#{n}": "no-label" for n in range(1, MANY + 1)}
    service.refresh_gauges()
    assert service.metrics.registry.get_sample_value("previewd_mass_teardown_guard_blocked") == 1
    service.store.close()

    released = service_for(tmp_path, bare, fake, max_teardowns_per_resync=MANY)  # an operator's decision
    try:
        resync_now(released)
        settle(released)
        assert set(states(released, range(1, MANY + 1))) == {PreviewState.TORN_DOWN}
        assert guard(released)["blocked"] is False
    finally:
        released.store.close()


def test_every_reason_counts_toward_the_cap(tmp_path: Path, bare: Path, fake: FakeGitHub) -> None:
    open_prs(fake, [1, 2, 3, 4])
    service = service_for(tmp_path, bare, fake, max_teardowns_per_resync=3)
    try:
        settle(service)
        later = "2026-01-02T00:00:00Z"
        fake.update_pull(REPO, 1, labels=(), updated_at=later)
        fake.update_pull(REPO, 2, draft=True, updated_at=later)
        fake.repo(REPO)["pulls"][3]["head"]["repo"]["full_name"] = "mallory/shop"
        fake.update_pull(REPO, 3, updated_at=later)
        fake.close_pull(REPO, 4, updated_at=later)  # gone from the list; a GET confirms it
        resync_now(service)
        settle(service)
        assert states(service, [1, 2, 3, 4]) == [PreviewState.DEPLOYING] * 4
        assert guard(service)["reasons"] == {f"{REPO}#1": "no-label", f"{REPO}#2": "draft",
                                             f"{REPO}#3": "fork", f"{REPO}#4": "closed"}

        # A webhook is one PR, not a batch: it is not capped.
        closed = pr_payload("pull_request.closed.1.json", number=4, sha=f"{4:040x}", updated_at=later)
        service.store.add_event("github", f"gh-{uuid.uuid4()}", "pull_request", json.dumps(closed).encode())
        settle(service)
        assert states(service, [4]) == [PreviewState.TORN_DOWN]

        # The list has not changed (answered 304), yet the withheld snapshots are applied again:
        # three teardowns now fit the limit.
        resync_now(service)
        settle(service)
        assert states(service, [1, 2, 3]) == [PreviewState.TORN_DOWN] * 3
        assert guard(service)["blocked"] is False
    finally:
        service.store.close()


def test_serve_withholds_a_mass_teardown_and_says_so(tmp_path: Path, bare: Path, port: int,
                                                       fake: FakeGitHub) -> None:
    open_prs(fake, [1, 2, 3])
    config = github_config(tmp_path, bare, fake, port, resync_interval="2s", max_teardowns_per_resync=2)
    server = Serve(write_config(tmp_path, config), tmp_path, port, env=env(fake)).start()
    try:
        wait_for(lambda: len(server.get("/api/previews").json()["previews"]) == 3 and
                 {p["state"] for p in server.get("/api/previews").json()["previews"]} == {"deploying"}, timeout=60)
        commits = remote_log(bare)
        for n in (1, 2, 3):
            fake.update_pull(REPO, n, labels=(), updated_at="2026-01-02T00:00:00Z")
        status = wait_for(lambda: (s := server.get("/api/status").json()["github"]["resync"]
                                   ["mass_teardown_guard"])["blocked"] and s, timeout=60)
        assert status["previews"] == [f"{REPO}#1", f"{REPO}#2", f"{REPO}#3"]
        assert set(status["reasons"].values()) == {"no-label"}
        assert "previewd_mass_teardown_guard_blocked 1.0" in server.get("/metrics").text
        assert {p["state"] for p in server.get("/api/previews").json()["previews"]} == {"deploying"}
        assert remote_log(bare) == commits
        assert "mass-teardown guard" in server.log.read_text()
    finally:
        server.stop()
