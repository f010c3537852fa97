"""The GitOps writer against real bare remotes: commits, no-op replays, races, failures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from previewd.adapters.git import GitError, GitIdentity, GitWorkspace
from previewd.adapters.git_commit import PlannedCommit
from previewd.adapters.git_objects import Entry, Tree
from previewd.core.models import FileChange
from previewd.core.planning import commit_message
from previewd.errors import scrub
from tests.support import git, remote_files, remote_log

ID = GitIdentity("previewd", "previewd@example.com")


def workspace(bare: Path, tmp: Path, name: str = "work") -> GitWorkspace:
    return GitWorkspace(str(bare), "main", tmp / name, ID, sleep=lambda _s: None)


def manifest(value: str = "1", name: str = "cm") -> bytes:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: '{value}'\n".encode()


def change(n: int, content: bytes | None = manifest()) -> FileChange:
    files = None if content is None else {"application.yaml": content}
    return FileChange(f"previews/acme/shop/pr-{n}", files, f"preview(acme/shop#{n}): change")


def test_create_update_delete_and_noop(bare: Path, tmp_path: Path) -> None:
    ws = workspace(bare, tmp_path)
    assert ws.apply([change(1)], commit_message)
    assert ws.apply([change(1)], commit_message) is None  # identical -> no commit
    assert ws.apply([change(1, manifest("2"))], commit_message)
    assert remote_files(bare, "previews") == {"previews/acme/shop/pr-1/application.yaml": manifest("2")}
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
    theirs.apply([FileChange("other/team", {"x.yaml": manifest(name="x")}, "their change")], commit_message)
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
    """Every push loses the race; counts the fetches and sleeps between attempts."""

    fetches = 0

    def _fetch(self) -> None:
        self.fetches += 1
        super()._fetch()

    def _push(self, commit: str) -> bool:
        return False


def test_each_retry_fetches_once_and_replays_without_sleeping_first(bare: Path, tmp_path: Path) -> None:
    sleeps: list[float] = []
    ws = AlwaysRejected(str(bare), "main", tmp_path / "w", ID, push_attempts=3, sleep=sleeps.append)
    ws.ensure_ready()
    ws.fetches = 0
    with pytest.raises(GitError, match="still rejected after 3 attempts"):
        ws.apply([change(1)], commit_message)
    assert ws.fetches == 2 and len(sleeps) == 2
    assert remote_log(bare) == []


# -- a broken working clone never makes a destructive commit, and never stops writes -----------

def five_previews(bare: Path, tmp: Path) -> GitWorkspace:
    ws = workspace(bare, tmp)
    ws.apply([change(n) for n in range(1, 6)], commit_message)
    return ws


def preview_dirs(bare: Path) -> set[str]:
    return {name.split("/")[3] for name in remote_files(bare, "previews")}


@pytest.mark.parametrize("damage", ["removed", "truncated", "garbage"])
def test_a_lost_or_corrupt_index_cannot_delete_other_previews(bare: Path, tmp_path: Path,
                                                              damage: str) -> None:
    ws = five_previews(bare, tmp_path)
    index = ws.workdir / ".git" / "index"
    git("-C", str(ws.workdir), "read-tree", "origin/main")  # an index as a checkout has
    if damage == "removed":
        index.unlink()
    else:
        index.write_bytes(b"DIRC" if damage == "truncated" else b"\x00garbage" * 10)
    assert ws.apply([change(6)], commit_message)
    assert preview_dirs(bare) == {f"pr-{n}" for n in range(1, 7)}
    assert git("-C", str(bare), "diff-tree", "-r", "--name-only", "--no-commit-id", "main~1", "main"
               ).split() == ["previews/acme/shop/pr-6/application.yaml"]


def test_stale_locks_left_by_a_killed_git_are_removed_on_start(bare: Path, tmp_path: Path) -> None:
    five_previews(bare, tmp_path)
    gitdir = tmp_path / "work" / ".git"
    locks = [gitdir / "index.lock", gitdir / "HEAD.lock", gitdir / "refs/heads/main.lock",
             gitdir / "refs/remotes/origin/main.lock", gitdir / "packed-refs.lock"]
    for lock in locks:
        lock.write_text("")
    restarted = workspace(bare, tmp_path)  # a new process on the same clone
    assert restarted.apply([change(6)], commit_message)
    assert not any(lock.exists() for lock in locks)
    assert preview_dirs(bare) == {f"pr-{n}" for n in range(1, 7)}


def test_locks_appearing_while_running_are_removed_after_the_failure(bare: Path, tmp_path: Path) -> None:
    ws = five_previews(bare, tmp_path)
    gitdir = ws.workdir / ".git"
    (gitdir / "refs/remotes/origin/main.lock").write_text("")
    (gitdir / "index.lock").write_text("")
    assert ws.apply([change(6)], commit_message)  # lands; recording it locally trips over the lock
    assert preview_dirs(bare) == {f"pr-{n}" for n in range(1, 7)}
    assert ws.apply([change(7)], commit_message)  # the clone is repaired first
    assert not (gitdir / "refs/remotes/origin/main.lock").exists()
    assert not (gitdir / "index.lock").exists()
    assert len(preview_dirs(bare)) == 7 and ws.tip() == git("-C", str(bare), "rev-parse", "main").strip()


@pytest.mark.parametrize("damage", [
    ("HEAD", b"garbage\n"),
    ("refs/remotes/origin/main", b"junk\n"),
    ("refs/remotes/origin/main", b"0123456789012345678901234567890123456789\n"),
    ("refs/heads/main", b"junk\n"),
    ("config", b"[core\nbroken"),
])
def test_an_unusable_clone_is_cloned_again(bare: Path, tmp_path: Path, damage: tuple[str, bytes]) -> None:
    ws = five_previews(bare, tmp_path)
    path, content = damage
    (ws.workdir / ".git" / path).write_bytes(content)
    assert ws.apply([change(6)], commit_message)  # the first attempt fails, the retry re-clones
    assert preview_dirs(bare) == {f"pr-{n}" for n in range(1, 7)}
    restarted = workspace(bare, tmp_path)
    (restarted.workdir / ".git" / path).write_bytes(content)
    assert restarted.apply([change(7)], commit_message)  # a restart on a broken clone too
    assert len(preview_dirs(bare)) == 7
    assert not list(tmp_path.glob(".work.*"))  # the temporary clone was swapped in


def test_a_clone_swapped_for_another_remote_is_replaced(bare: Path, tmp_path: Path) -> None:
    from tests.support import make_bare

    other = make_bare(tmp_path / "other.git")
    workspace(other, tmp_path).apply([change(9)], commit_message)
    ws = workspace(bare, tmp_path)  # same workdir, configured for another remote
    assert ws.apply([change(1)], commit_message)
    assert preview_dirs(bare) == {"pr-1"}


class DropsOtherDirectories(PlannedCommit):
    """Builds the root tree from the planned directories alone: the index bug, reproduced."""

    def _rebuild(self, new_entries: dict[str, Entry | None], trees: list[tuple[str, Tree]]) -> str:
        self.trees = {d: {} if d.count("/") < 3 else t for d, t in self.trees.items()}
        return super()._rebuild(new_entries, trees)


class BuggyWorkspace(GitWorkspace):
    def _plan(self, base: str | None, paths: Sequence[str]) -> PlannedCommit:
        scratch = self.workdir / ".git" / "previewd-tmp"
        scratch.mkdir(exist_ok=True)
        return DropsOtherDirectories(self._run, base, paths, "sha1", scratch)


def test_a_commit_touching_anything_outside_the_plan_is_never_pushed(bare: Path, tmp_path: Path) -> None:
    five_previews(bare, tmp_path)
    buggy = BuggyWorkspace(str(bare), "main", tmp_path / "work", ID, push_attempts=2, sleep=lambda _s: None)
    with pytest.raises(GitError, match=r"refusing to push .* outside the planned directories"):
        buggy.apply([change(6)], commit_message)
    assert len(remote_log(bare)) == 1 and len(preview_dirs(bare)) == 5


def test_edit_commits_only_the_edited_paths_whatever_the_index_says(bare: Path, tmp_path: Path) -> None:
    ws = five_previews(bare, tmp_path)
    ws.sync()
    (ws.workdir / ".git" / "index").unlink()
    (ws.workdir / "previews/acme/shop/pr-2").rename(ws.workdir / "moved")  # stray work tree edits

    def edit(root: Path) -> tuple[list[str], str]:
        (root / "notes").mkdir(exist_ok=True)
        (root / "notes/release.yaml").write_bytes(manifest(name="release"))
        return ["notes/release.yaml"], "edit"

    assert ws.edit(edit)
    assert preview_dirs(bare) == {f"pr-{n}" for n in range(1, 6)}
    assert "notes/release.yaml" in remote_files(bare)


NAMES = st.sampled_from(["a", "a.b", "a-b", "a0", "b", "B", "z~", "é"])


def consistent(files: dict[str, bytes]) -> bool:
    """No path is both a file and a directory."""
    return not any(other.startswith(path + "/") for path in files for other in files)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.lists(NAMES, min_size=1, max_size=3).map("/".join), st.binary(max_size=20),
                       min_size=1, max_size=6).filter(consistent))
def test_tree_ids_computed_in_process_are_the_ids_git_writes(files: dict[str, bytes]) -> None:
    import tempfile

    from previewd.adapters.git_objects import tree_id

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        git("init", "--quiet", str(repo))
        for rel, content in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_bytes(content)
        git("-C", str(repo), "-c", "core.autocrlf=false", "add", "-A")
        assert tree_id(files) == git("-C", str(repo), "write-tree").strip()


def test_each_planned_directory_is_hashed_once_per_commit(bare: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``differs`` and ``commit`` share one build of each directory's tree."""
    from previewd.adapters import git_commit

    built: list[int] = []
    real = git_commit.build_tree

    def counting(files: dict[str, bytes], algorithm: str = "sha1") -> git_commit.BuiltTree:
        built.append(len(files))
        return real(files, algorithm)

    monkeypatch.setattr(git_commit, "build_tree", counting)
    ws = workspace(bare, tmp_path)
    assert ws.apply([change(n) for n in range(1, 4)], commit_message)
    assert len(built) == 3
    assert remote_files(bare, "previews") == {
        f"previews/acme/shop/pr-{n}/application.yaml": manifest() for n in range(1, 4)}


@pytest.mark.parametrize("cause", ["rejected", "failed"])
def test_a_retried_write_fetches_once(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      cause: str) -> None:
    """The retry after a rejected or failed push fetches once, not once to repair and again."""
    ours, theirs = workspace(bare, tmp_path, "ours"), workspace(bare, tmp_path, "theirs")
    ours.apply([change(1)], commit_message)
    theirs.apply([change(2)], commit_message)  # ours is now behind: its first push is rejected
    runs: list[str] = []
    run = ours._run
    first_push = True

    def recording(*args: str, input: bytes | None = None) -> bytes:
        nonlocal first_push
        runs.append(args[0])
        if args[0] == "push" and first_push and cause == "failed":
            first_push = False
            raise GitError("git push failed: connection reset")
        return run(*args, input=input)

    monkeypatch.setattr(ours, "_run", recording)
    assert ours.apply([change(3)], commit_message)
    assert runs.count("push") == 2 and runs.count("fetch") == 1
    assert set(preview_dirs(bare)) >= {"pr-1", "pr-2", "pr-3"}
