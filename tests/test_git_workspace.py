"""The GitOps writer against real bare remotes: commits, no-op replays, races, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from previewd.adapters.git import GitError, GitIdentity, GitWorkspace
from previewd.core.models import FileChange
from previewd.core.planning import commit_message
from previewd.errors import scrub
from tests.support import git, remote_files, remote_log

ID = GitIdentity("previewd", "previewd@example.com")


def workspace(bare: Path, tmp: Path, name: str = "work") -> GitWorkspace:
    return GitWorkspace(str(bare), "main", tmp / name, ID, sleep=lambda _s: None)


def change(n: int, content: bytes | None = b"a: 1\n") -> FileChange:
    files = None if content is None else {"application.yaml": content}
    return FileChange(f"previews/acme/shop/pr-{n}", files, f"preview(acme/shop#{n}): change")


def test_create_update_delete_and_noop(bare: Path, tmp_path: Path) -> None:
    ws = workspace(bare, tmp_path)
    assert ws.apply([change(1)], commit_message)
    assert ws.apply([change(1)], commit_message) is None  # identical -> no commit
    assert ws.apply([change(1, b"a: 2\n")], commit_message)
    assert remote_files(bare, "previews") == {"previews/acme/shop/pr-1/application.yaml": b"a: 2\n"}
    assert ws.apply([change(1, None)], commit_message)
    assert remote_files(bare, "previews") == {}
    assert ws.apply([change(1, None)], commit_message) is None
    assert len(remote_log(bare)) == 3


def test_batch_is_one_commit_with_a_line_per_change(bare: Path, tmp_path: Path) -> None:
    ws = workspace(bare, tmp_path)
    ws.apply([change(n) for n in range(1, 4)], commit_message)
    body = git("-C", str(bare), "log", "-1", "--format=%B")
    assert body.splitlines()[0] == "previewd: 3 preview changes"
    assert [line for line in body.splitlines() if line.startswith("preview(")] == [
        f"preview(acme/shop#{n}): change" for n in range(1, 4)]


def test_concurrent_writer_is_rebased_not_overwritten(bare: Path, tmp_path: Path) -> None:
    ours = workspace(bare, tmp_path, "ours")
    ours.apply([change(1)], commit_message)
    theirs = workspace(bare, tmp_path, "theirs")
    theirs.apply([FileChange("other/team", {"x.yaml": b"x: 1\n"}, "their change")], commit_message)
    assert ours.apply([change(2)], commit_message)  # our clone is behind: rejected, then rebased
    files = remote_files(bare)
    assert "other/team/x.yaml" in files and "previews/acme/shop/pr-2/application.yaml" in files
    assert remote_log(bare)[:2] == ["preview(acme/shop#2): change", "their change"]


def test_failed_push_raises_and_leaves_the_remote_untouched(bare: Path, tmp_path: Path) -> None:
    ws = workspace(bare, tmp_path)
    ws.apply([change(1)], commit_message)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho denied >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(GitError, match="push failed"):
        ws.apply([change(2)], commit_message)
    assert len(remote_log(bare)) == 1
    hook.unlink()
    assert ws.apply([change(2)], commit_message)  # retried later: nothing lost


def test_paths_outside_the_work_tree_are_refused(bare: Path, tmp_path: Path) -> None:
    ws = workspace(bare, tmp_path)
    from previewd.errors import PermanentError

    with pytest.raises(PermanentError):
        ws.apply([FileChange("../escape", {"a": b"x"}, "bad")], commit_message)


def test_credentials_are_scrubbed() -> None:
    text = "fatal: could not read from https://user:ghp_secret@github.com/acme/gitops.git"
    assert "ghp_secret" not in scrub(text)
    assert "tok123" not in scrub("auth failed for tok123", ("tok123",))


def test_https_credentials_go_through_askpass_never_the_url(tmp_path: Path) -> None:
    import subprocess

    from previewd.adapters.git import GitCredentials

    ws = GitWorkspace("https://git.example.com/acme/gitops.git", "main", tmp_path / "w", ID,
                      GitCredentials("bot", "s3cr3t-token"))
    env = ws._env(network=True)
    assert "s3cr3t-token" not in ws.url
    askpass = env["GIT_ASKPASS"]
    ask = lambda prompt: subprocess.run([askpass, prompt], env=env, capture_output=True,  # noqa: E731
                                        text=True, check=True).stdout.strip()
    assert ask("Username for 'https://git.example.com': ") == "bot"
    assert ask("Password for 'https://bot@git.example.com': ") == "s3cr3t-token"
    assert "s3cr3t-token" not in Path(askpass).read_text()  # the script holds no secret


def test_local_commands_get_no_credentials(tmp_path: Path) -> None:
    from previewd.adapters.git import GitCredentials

    ws = GitWorkspace("https://git.example.com/acme/gitops.git", "main", tmp_path / "w", ID,
                      GitCredentials("bot", "s3cr3t-token"))
    local = ws._env(network=False)
    assert "s3cr3t-token" not in local.values()
    assert "GIT_ASKPASS" not in local and "PREVIEWD_GIT_PASSWORD" not in local
    assert ws._env(network=True)["PREVIEWD_GIT_PASSWORD"] == "s3cr3t-token"


class AlwaysRejected(GitWorkspace):
    """Every push loses the race; counts the syncs and sleeps between attempts."""

    syncs = 0

    def sync(self) -> None:
        self.syncs += 1
        super().sync()

    def _push(self) -> bool:
        return False


def test_each_retry_syncs_once_and_the_last_attempt_neither_sleeps_nor_syncs(
        bare: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    ws = AlwaysRejected(str(bare), "main", tmp_path / "w", ID, push_attempts=3, sleep=sleeps.append)
    ws.ensure_ready()
    ws.syncs = 0
    with pytest.raises(GitError, match="still rejected after 3 attempts"):
        ws.apply([change(1)], commit_message)
    assert ws.syncs == 2 and len(sleeps) == 2
    ws.syncs = 0
    with pytest.raises(GitError):
        ws.apply([change(1)], commit_message)  # the unpushed commit is dropped before retrying
    assert ws.syncs == 3
