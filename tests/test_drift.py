"""The drift check in-process, against a real bare remote changed by hand between passes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from previewd.jobs.converge import TREE_KEY
from previewd.jobs.drift import DriftCheck, compare
from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.support import base_config, git, pr_payload, remote_files, remote_log

SHOP = "previews/acme/shop"


def service(tmp: Path, bare: Path) -> Service:
    return build_service(parse_config(base_config(tmp, bare), {"PREVIEWD_WEBHOOK_SECRET": "s"}))


def deploy(svc: Service, *numbers: int, labels: tuple[str, ...] = ("preview",), second: int = 1) -> None:
    for n in numbers:
        body = pr_payload(number=n, sha=f"{n:040x}", labels=labels, updated_at=f"2026-01-01T00:00:0{second}Z")
        svc.store.add_event("github", f"d{n}-{second}", "pull_request", json.dumps(body).encode())
    svc.worker.step()


def by_hand(bare: Path, tmp: Path, edit: Any) -> None:
    clone = tmp / "by-hand"
    if clone.exists():
        git("-C", str(clone), "pull", "--quiet", "--ff-only")
    else:
        git("clone", "--quiet", str(bare), str(clone))
    edit(clone)
    git("-C", str(clone), "add", "-A")
    git("-C", str(clone), "-c", "user.name=x", "-c", "user.email=x@example.com", "commit", "-qm", "by hand")
    git("-C", str(clone), "push", "--quiet", "origin", "HEAD:main")


def check(svc: Service) -> None:
    """One drift check and the convergence after it, as the worker runs them."""
    DriftCheck()(svc.ctx)
    svc.worker.converge_once()


def test_unchanged_directories_are_never_rewritten(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deploy(svc, 1, 2)
    commits = remote_log(bare)
    report = compare(svc.ctx)
    assert (report.repairs, report.adopted, report.corrected, report.unknown) == ([], [], [], [])
    check(svc)
    assert remote_log(bare) == commits


def test_changed_and_deleted_directories_are_restored_in_one_commit(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deploy(svc, 1, 2, 3)
    want = remote_files(bare, SHOP)

    def vandalise(clone: Path) -> None:
        git("-C", str(clone), "rm", "-rq", f"{SHOP}/pr-1")
        (clone / SHOP / "pr-2" / "application.yaml").write_text("changed: by hand\n")
        (clone / SHOP / "pr-3" / "extra.yaml").write_text("added: by hand\n")

    by_hand(bare, tmp_path, vandalise)
    before = len(remote_log(bare))
    check(svc)
    assert remote_files(bare, SHOP) == want
    assert len(remote_log(bare)) == before + 1
    body = git("-C", str(bare), "log", "-1", "--format=%B")
    assert "preview(acme/shop#1): restore at" in body and "(changed outside previewd)" in body
    check(svc)
    assert len(remote_log(bare)) == before + 1  # repaired once, then nothing to do


def test_a_directory_recreated_for_a_torn_down_preview_is_removed(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deploy(svc, 1, 2)
    deploy(svc, 1, labels=(), second=2)  # label removed: pr-1 torn down
    gone = {k: v for k, v in remote_files(bare).items() if "/pr-1/" not in k}
    assert remote_files(bare) == gone

    def recreate(clone: Path) -> None:
        (clone / SHOP / "pr-1").mkdir()
        (clone / SHOP / "pr-1" / "application.yaml").write_text("apiVersion: v1\n")

    by_hand(bare, tmp_path, recreate)
    check(svc)
    assert remote_files(bare) == gone
    assert remote_log(bare)[0] == "preview(acme/shop#1): remove (changed outside previewd)"


def test_records_without_a_tree_id_adopt_or_restore_and_unknown_dirs_stay(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deploy(svc, 1, 2)
    want = remote_files(bare, SHOP)
    with svc.store.transaction() as conn:  # records as an older previewd wrote them
        for n in (1, 2):
            p = svc.store.get_preview("acme/shop", n, conn)
            assert p is not None and TREE_KEY in p.extra
            svc.store.put_preview(conn, replace(p, extra={k: v for k, v in p.extra.items() if k != TREE_KEY}))

    def damage(clone: Path) -> None:
        git("-C", str(clone), "rm", "-rq", f"{SHOP}/pr-2")
        (clone / SHOP / "pr-7").mkdir()
        (clone / SHOP / "pr-7" / "a.yaml").write_text("unknown: true\n")

    by_hand(bare, tmp_path, damage)
    report = compare(svc.ctx)
    assert [p.number for p in report.adopted] == [1] and [p.number for p in report.repairs] == [2]
    assert report.unknown == [f"{SHOP}/pr-7"]
    check(svc)
    assert remote_files(bare, SHOP) == {**want, f"{SHOP}/pr-7/a.yaml": b"unknown: true\n"}
    assert all(TREE_KEY in p.extra for p in svc.store.list_previews())


def test_a_record_of_an_unconfigured_repository_is_corrected_when_its_directory_is_gone(
        tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deploy(svc, 1)
    other = build_service(parse_config(
        base_config(tmp_path, bare, repositories=[{**base_config(tmp_path, bare)["repositories"][0],
                                                   "name": "acme/other"}]),
        {"PREVIEWD_WEBHOOK_SECRET": "s"}))
    by_hand(bare, tmp_path, lambda clone: git("-C", str(clone), "rm", "-rq", f"{SHOP}/pr-1"))
    commits = remote_log(bare)
    DriftCheck()(other.ctx)
    other.worker.converge_once()
    (record,) = other.store.list_previews()
    assert record.state.value == "torn-down" and record.deployed_sha is None
    assert remote_log(bare) == commits  # nothing written for a repository no longer configured


def test_a_restarted_service_checks_drift_on_its_first_pass(tmp_path: Path, bare: Path) -> None:
    """The drift check runs once on start, not only after ``gitops.drift_check_interval``."""
    svc = service(tmp_path, bare)
    deploy(svc, 1)
    want = remote_files(bare, SHOP)
    by_hand(bare, tmp_path, lambda clone: git("-C", str(clone), "rm", "-rq", f"{SHOP}/pr-1"))
    assert remote_files(bare, SHOP) == {}
    restarted = service(tmp_path, bare)  # same store and clone; the 10m interval is not due
    restarted.worker.step()
    assert remote_files(bare, SHOP) == want
