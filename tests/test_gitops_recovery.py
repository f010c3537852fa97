"""A real ``previewd serve`` against a real bare remote whose working clone is attacked: a lost or
corrupt index, stale locks, garbage HEAD, broken refs, refused pushes, and directories changed
in the remote by hand. Nothing is ever deleted that was not planned, writes resume by themselves,
``/readyz`` says when they do not, and drift is repaired."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    Serve,
    base_config,
    git,
    pr_payload,
    remote_files,
    remote_log,
    wait_for,
    write_config,
)

SHOP = "previews/acme/shop"


def config(tmp: Path, bare: Path, port: int, **gitops: Any) -> Path:
    data = base_config(tmp, bare, port)
    data["gitops"].update(gitops)
    return write_config(tmp, data)


@pytest.fixture
def serve(tmp_path: Path, bare: Path, port: int) -> Iterator[Serve]:
    server = Serve(config(tmp_path, bare, port), tmp_path, port).start()
    yield server
    server.stop()


def open_pr(serve: Serve, number: int) -> None:
    assert serve.post("pull_request", pr_payload(number=number, sha=f"{number:040x}")).status_code == 202


def synced(serve: Serve) -> bool:
    return all(p["synced"] for p in serve.get("/api/previews").json()["previews"])


def dirs(bare: Path) -> set[str]:
    return {name.split("/")[3] for name in remote_files(bare, SHOP)}


def five_previews(serve: Serve, bare: Path) -> None:
    for n in range(1, 6):
        open_pr(serve, n)
    wait_for(lambda: dirs(bare) == {f"pr-{n}" for n in range(1, 6)} and synced(serve), timeout=60)


def last_commit_paths(bare: Path) -> list[str]:
    return git("-C", str(bare), "diff-tree", "-r", "--name-only", "--no-commit-id", "main~1", "main").split()


@pytest.mark.parametrize("damage", ["removed", "truncated"])
def test_a_lost_or_corrupt_index_never_deletes_previews(serve: Serve, bare: Path, tmp_path: Path,
                                                        damage: str) -> None:
    five_previews(serve, bare)
    work = tmp_path / "work"
    git("-C", str(work), "read-tree", "origin/main")  # the index a checkout has
    index = work / ".git" / "index"
    if damage == "removed":
        index.unlink()
    else:
        index.write_bytes(index.read_bytes()[:40])
    open_pr(serve, 6)
    wait_for(lambda: "pr-6" in dirs(bare) and synced(serve), timeout=60)
    assert dirs(bare) == {f"pr-{n}" for n in range(1, 7)}
    assert {p.rpartition("/")[0].split("/")[3] for p in last_commit_paths(bare)} == {"pr-6"}


DAMAGES = {
    "stale locks": {".git/index.lock": b"", ".git/refs/heads/main.lock": b"",
                    ".git/refs/remotes/origin/main.lock": b"", ".git/HEAD.lock": b""},
    "garbage HEAD": {".git/HEAD": b"garbage\n"},
    "bad ref": {".git/refs/remotes/origin/main": b"not a commit id\n"},
    "truncated index": {".git/index": b"DIRC\x00"},
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_writes_resume_after_a_kill_left_the_clone_broken(tmp_path: Path, bare: Path, port: int,
                                                          damage: str) -> None:
    path = config(tmp_path, bare, port)
    server = Serve(path, tmp_path, port).start()
    try:
        open_pr(server, 1)
        wait_for(lambda: dirs(bare) == {"pr-1"} and synced(server), timeout=60)
        server.kill()  # SIGKILL: what a process-group kill mid-write leaves behind
        for rel, content in DAMAGES[damage].items():
            (tmp_path / "work" / rel).write_bytes(content)
        server = Serve(path, tmp_path, port).start()
        open_pr(server, 2)
        wait_for(lambda: dirs(bare) == {"pr-1", "pr-2"} and synced(server), timeout=60)
        assert server.get("/readyz").json() == {"status": "ready", "gitops": "ok"}
        assert not [rel for rel in DAMAGES[damage] if rel.endswith(".lock")
                    and (tmp_path / "work" / rel).exists()]
    finally:
        server.stop()


def test_a_clone_broken_while_running_is_repaired_and_the_work_done(serve: Serve, bare: Path,
                                                                    tmp_path: Path) -> None:
    open_pr(serve, 1)
    wait_for(lambda: dirs(bare) == {"pr-1"} and synced(serve), timeout=60)
    (tmp_path / "work" / ".git" / "HEAD").write_bytes(b"garbage\n")
    (tmp_path / "work" / ".git" / "refs" / "remotes" / "origin" / "main.lock").write_bytes(b"")
    open_pr(serve, 2)
    wait_for(lambda: dirs(bare) == {"pr-1", "pr-2"} and synced(serve), timeout=60)


def test_readyz_is_503_after_unready_after_of_failing_writes_and_recovers(
        tmp_path: Path, bare: Path, port: int) -> None:
    server = Serve(config(tmp_path, bare, port, unready_after="1s"), tmp_path, port).start()
    hook = bare / "hooks" / "pre-receive"
    try:
        assert server.get("/readyz").status_code == 200
        hook.write_text("#!/bin/sh\necho refused by policy >&2\nexit 1\n")
        hook.chmod(0o755)
        open_pr(server, 1)
        answer = wait_for(lambda: (r := server.get("/readyz")).status_code == 503 and r, timeout=60)
        body = answer.json()
        assert body["status"] == "not ready" and body["gitops"] == "failing"
        assert "GitOps writes have failed for" in body["reason"] and "limit 1s" in body["reason"]
        assert "refused by policy" in body["gitops_error"]
        assert not synced(server)  # the work stays queued
        hook.unlink()
        wait_for(lambda: dirs(bare) == {"pr-1"} and synced(server), timeout=90)
        wait_for(lambda: server.get("/readyz").status_code == 200, timeout=30)
    finally:
        server.stop()


def hand_edit(bare: Path, tmp: Path, edit: Any) -> None:
    """Change the remote as a person would: clone, edit, commit, push."""
    clone = tmp / "by-hand"
    if not clone.exists():
        git("clone", "--quiet", str(bare), str(clone))
    git("-C", str(clone), "pull", "--quiet", "--ff-only")
    edit(clone)
    git("-C", str(clone), "add", "-A")
    git("-C", str(clone), "-c", "user.name=someone", "-c", "user.email=someone@example.com",
        "commit", "--quiet", "-m", "by hand")
    git("-C", str(clone), "push", "--quiet", "origin", "HEAD:main")


def test_directories_changed_or_deleted_by_hand_are_restored_in_one_commit(
        tmp_path: Path, bare: Path, port: int) -> None:
    server = Serve(config(tmp_path, bare, port, drift_check_interval="1s"), tmp_path, port).start()
    try:
        for n in (1, 2, 3):
            open_pr(server, n)
        wait_for(lambda: dirs(bare) == {"pr-1", "pr-2", "pr-3"} and synced(server), timeout=60)
        want = remote_files(bare, SHOP)
        app2 = f"{SHOP}/pr-2/application.yaml"

        def vandalise(clone: Path) -> None:
            git("-C", str(clone), "rm", "-r", "--quiet", f"{SHOP}/pr-1")
            (clone / app2).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
            (clone / "platform").mkdir()
            (clone / "platform" / "keep.yaml").write_text("kept: true\n")

        hand_edit(bare, tmp_path, vandalise)
        commits = len(remote_log(bare))
        wait_for(lambda: remote_files(bare, SHOP) == want, timeout=60)
        assert len(remote_log(bare)) == commits + 1  # every repair in one commit
        assert {p.split("/")[3] for p in last_commit_paths(bare)} == {"pr-1", "pr-2"}
        assert "restore at" in remote_log(bare)[0] or "preview changes" in remote_log(bare)[0]
        assert remote_files(bare, "platform") == {"platform/keep.yaml": b"kept: true\n"}

        hand_edit(bare, tmp_path, lambda clone: (clone / f"{SHOP}/pr-9").mkdir() or
                  (clone / f"{SHOP}/pr-9/x.yaml").write_text("kind: Stray\n"))
        time.sleep(3)  # several checks: an unknown directory is left alone, nothing rewritten
        assert len(remote_log(bare)) == commits + 2
        assert remote_files(bare, SHOP) == {**want, f"{SHOP}/pr-9/x.yaml": b"kind: Stray\n"}
    finally:
        server.stop()
