"""The worker in-process: events -> records -> one GitOps commit; poison inputs are isolated."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from previewd.core.backoff import backoff_delay
from previewd.jobs.context import RetryIn
from previewd.runtime.service import Service, build_service
from previewd.runtime.worker import Periodic
from previewd.settings import parse_config
from tests.support import base_config, pr_payload, remote_files, remote_log


def service(tmp: Path, bare: Path) -> Service:
    return build_service(parse_config(base_config(tmp, bare), {"PREVIEWD_WEBHOOK_SECRET": "s"}))


def deliver(svc: Service, delivery: str, payload: dict[str, object]) -> None:
    assert svc.store.add_event("github", delivery, "pull_request", json.dumps(payload).encode())


def test_many_events_become_one_commit(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    for n in range(1, 6):
        deliver(svc, f"d{n}", pr_payload(number=n, sha=f"{n:040x}"))
    svc.worker.step()
    assert remote_log(bare) == ["previewd: 5 preview changes"]
    assert len({k.split("/")[3] for k in remote_files(bare, "previews")}) == 5


def test_bad_head_sha_is_rejected_and_stalls_no_other_event(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deliver(svc, "bad", pr_payload(number=1, sha="$(reboot)"))
    deliver(svc, "good", pr_payload(number=2, sha="b" * 40))
    svc.worker.step()
    assert remote_log(bare) == [f"preview(acme/shop#2): create at {'b' * 7}"]
    states = {p.number: p.state.value for p in svc.store.list_previews()}
    assert states == {2: "deploying"} and svc.store.pending_events() == []


def test_a_stored_record_with_a_bad_pr_number_stalls_no_other_preview(tmp_path: Path, bare: Path) -> None:
    from tests.support import make_preview

    svc = service(tmp_path, bare)
    with svc.store.transaction() as conn:  # stored by a version that accepted PR number -1
        svc.store.put_preview(conn, make_preview(number=-1, generation=1, namespace="pr-1-shop"))
    deliver(svc, "good", pr_payload(number=2, sha="b" * 40))
    svc.worker.step()
    assert remote_log(bare) == [f"preview(acme/shop#2): create at {'b' * 7}"]
    assert svc.store.dirty_previews() == []


def test_malformed_payload_is_rejected_not_retried_forever(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    svc.store.add_event("github", "broken", "pull_request", b'{"action": "opened"}')
    svc.worker.step()
    assert svc.store.pending_events() == []
    assert remote_log(bare) == []


def test_one_unresolvable_preview_does_not_stall_the_others(tmp_path: Path, bare: Path) -> None:
    from tests.fakes import FakeFlakyResolver

    svc = service(tmp_path, bare)
    resolver = FakeFlakyResolver({1})
    svc.ctx.images = resolver  # type: ignore[assignment]
    deliver(svc, "a", pr_payload(number=1, sha="a" * 40))
    deliver(svc, "b", pr_payload(number=2, sha="b" * 40))
    svc.worker.step()
    assert remote_log(bare) == [f"preview(acme/shop#2): create at {'b' * 7}"]
    resolver.failing.clear()
    svc.worker.step()
    assert remote_log(bare)[0] == f"preview(acme/shop#1): create at {'a' * 7}"


def test_render_error_is_shown_until_the_preview_renders(tmp_path: Path, bare: Path) -> None:
    from previewd.http.api import preview_json
    from tests.support import make_pr, make_preview

    svc = service(tmp_path, bare)
    with svc.store.transaction() as conn:  # a record no intake accepts now, stored by an older version
        svc.store.put_preview(conn, make_preview(number=1, generation=1, namespace="pr-1-shop", pr=make_pr(
            number=1, created_at="x" * 5000, updated_at="2026-01-01T00:00:01Z")))
    svc.worker.step()
    (failed,) = svc.store.list_previews()
    error = preview_json(failed)["error"]
    assert failed.state.value == "failed" and "created_at" in error and len(error) < 200
    sync = pr_payload("pull_request.synchronize.1.json", number=1, sha="c" * 40,
                      updated_at="2026-01-01T00:00:02Z")
    deliver(svc, "good", sync)
    svc.worker.step()
    (fixed,) = svc.store.list_previews()
    assert fixed.state.value == "deploying" and preview_json(fixed)["error"] is None
    assert fixed.extra.get("render_error") is None


def test_previews_of_a_repository_no_longer_configured_are_left_alone(
        tmp_path: Path, bare: Path, caplog: pytest.LogCaptureFixture) -> None:
    from previewd.jobs.converge import converge

    svc = service(tmp_path, bare)
    deliver(svc, "a", pr_payload(number=1, sha="a" * 40))
    svc.worker.step()
    (deployed,) = svc.store.list_previews()
    with svc.store.transaction() as conn:  # dirty again, as after a push, then the repo is dropped
        svc.store.put_preview(conn, replace(deployed, generation=deployed.generation + 1))
    svc.ctx.config = svc.config.model_copy(update={"repositories": []})
    with caplog.at_level(logging.WARNING, logger="previewd.converge"):
        result = converge(svc.ctx.config, svc.store, svc.ctx.workspace, svc.ctx.images)
        converge(svc.ctx.config, svc.store, svc.ctx.workspace, svc.ctx.images)
    assert result.commit is None and svc.store.dirty_previews() == []
    (kept,) = svc.store.list_previews()
    assert (kept.state, kept.deployed_sha) == (deployed.state, deployed.deployed_sha)
    assert [r.getMessage() for r in caplog.records] == [
        "acme/shop#1: left alone: the repository is no longer configured (its GitOps directory is kept)"]
    assert len(remote_log(bare)) == 1 and remote_files(bare, "previews")  # nothing deleted


def test_drain_jobs_run_after_activity_or_when_due(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    worker = svc.worker
    runs: list[str] = []

    def retrying(_ctx: object) -> RetryIn:
        runs.append("retry")
        return RetryIn(1.5)  # e.g. a failed cleanup whose backoff ends in 1.5 s

    drain = Periodic("drain", 5.0, lambda _ctx: runs.append("drain"), on_activity=True)
    retry = Periodic("retry", 60.0, retrying, on_activity=True)
    worker.periodic = [drain, retry]
    worker.run_periodic(100.0)  # the first pass runs everything
    assert runs == ["drain", "retry"] and (drain.next_at, retry.next_at) == (105.0, 101.5)
    worker.run_periodic(101.0)  # idle, nothing due: no reads
    assert runs == ["drain", "retry"]
    worker.run_periodic(101.5)  # the job's own retry came due
    assert runs == ["drain", "retry", "retry"]
    deliver(svc, "a", pr_payload(number=1, sha="a" * 40))
    assert worker.process_events() == 1
    worker.run_periodic(102.0)  # an event was handled: both run at once
    assert runs == ["drain", "retry", "retry", "drain", "retry"]
    assert worker.idle_timeout(102.0) == 1.5  # the retry is the next thing due
    retry.next_at = 500.0
    assert worker.idle_timeout(102.0) == 5.0  # drain due at 107, but never sleep past MAX_IDLE
    worker.waiting = True
    assert worker.idle_timeout(102.0) == 1.0  # previews wait for images: keep checking
    worker.run_periodic(103.0)  # no activity since: nothing runs
    assert len(runs) == 5


def test_step_notifications_make_drain_jobs_run_on_the_next_pass(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    runs: list[float] = []
    drain = Periodic("drain", 3600.0, lambda _ctx: runs.append(1), on_activity=True)
    svc.worker.periodic.append(drain)
    svc.worker.step()
    svc.worker.step()
    assert len(runs) == 1  # idle: once, at start
    deliver(svc, "a", pr_payload(number=1, sha="a" * 40))
    svc.worker.step()  # the event is handled before the drain job runs
    assert len(runs) == 2
    svc.worker.step()  # the converge of that pass changed a preview: publish it now
    svc.worker.step()
    assert len(runs) == 3


def test_backoff_delay() -> None:
    assert [backoff_delay(n, first=0.5, cap=30.0) for n in range(0, 9)] == [
        0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_delay(1, 120.0, first=1.0, cap=60.0) == 120.0  # never shorter than Retry-After
    assert backoff_delay(3, 1.0, first=1.0, cap=60.0) == 4.0
