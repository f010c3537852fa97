"""The real ``git`` binary, driven with argv lists and ``git -C``; errors scrubbed of secrets.

A ``GitWorkspace`` keeps one clone of a remote branch. Commits are built with plumbing from the
remote head plus exactly the planned changes (``git_commit``), never from an index or a work
tree, and pushed by id; a rejected push is fetched and the plan replayed on the new head, never
forced. Stale locks are removed and an unusable clone is cloned again (``git_repair``).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from previewd.adapters.git_commit import Content, GitError, PlannedCommit, check_path, read_trees
from previewd.adapters.git_objects import Tree, tree_id
from previewd.adapters.git_repair import remove_stale_locks, swap_in, unusable
from previewd.core.models import FileChange
from previewd.errors import PermanentError, scrub

__all__ = ["EditFn", "GitCredentials", "GitError", "GitIdentity", "GitWorkspace", "MessageFn", "init_bare"]

log = logging.getLogger("previewd.git")

# Only these talk to the remote; every other command runs without the credential variables.
_NETWORK_COMMANDS = frozenset({"clone", "fetch", "push"})
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$PREVIEWD_GIT_USERNAME" ;;
  *) printf '%s\\n' "$PREVIEWD_GIT_PASSWORD" ;;
esac
"""
# After this many failed writes in a row whose cheap checks found nothing, recovery also runs
# ``git fsck --connectivity-only`` once (it reads every object, so not on every failure).
DEEP_CHECK_AFTER = 3
FIRST_RETRY_DELAY = 0.05  # seconds before the second attempt of a write; doubles, capped below
MAX_RETRY_DELAY = 5.0
GIT_TIMEOUT = 300  # seconds any one git command may run


MessageFn = Callable[[list[FileChange]], str]
EditFn = Callable[[Path], tuple[list[str], str]]  # work tree -> (changed paths, commit message)


@dataclass(frozen=True)
class GitIdentity:
    name: str
    email: str


@dataclass(frozen=True)
class GitCredentials:
    username: str | None = None
    password: str | None = None


class GitWorkspace:
    """A working clone of ``url``'s ``branch`` at ``workdir``; every call is serialised by the caller."""

    def __init__(
        self,
        url: str,
        branch: str,
        workdir: Path,
        identity: GitIdentity,
        credentials: GitCredentials = GitCredentials(),
        push_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if url.startswith("-") or "\n" in url:
            raise PermanentError("refusing a git URL that starts with '-' or spans lines")
        self.url = url
        self.branch = branch
        self.workdir = workdir.absolute()
        self.identity = identity
        self.credentials = credentials
        self.push_attempts = push_attempts
        self._sleep = sleep
        self._ready = False
        self._failures = 0  # failed writes in a row, for the deep check
        self._algorithm = "sha1"
        self._secrets = (credentials.password,)
        self._tracking = f"refs/remotes/origin/{branch}"
        # The environment of every git run, built once: the process's own minus any GIT_*.
        self._base_env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self._base_env.update(
            GIT_TERMINAL_PROMPT="0",
            GIT_AUTHOR_NAME=identity.name,
            GIT_AUTHOR_EMAIL=identity.email,
            GIT_COMMITTER_NAME=identity.name,
            GIT_COMMITTER_EMAIL=identity.email,
            GIT_CONFIG_NOSYSTEM="1",
            # Never find a repository above the clone (a broken clone inside a checkout must
            # not make git act on the outer repository).
            GIT_CEILING_DIRECTORIES=str(self.workdir.parent.resolve()),
            LC_ALL="C",
        )
        self._network_env: dict[str, str] | None = None  # + credentials, once askpass is written

    # -- running git ---------------------------------------------------------------------

    def _env(self, network: bool) -> dict[str, str]:
        """The environment for one git run; credentials only for commands that reach the remote."""
        if not network or not self.credentials.password:
            return self._base_env
        if self._network_env is None:
            self._network_env = {
                **self._base_env,
                "GIT_ASKPASS": str(self._write_askpass()),
                "PREVIEWD_GIT_USERNAME": self.credentials.username or "x-access-token",
                "PREVIEWD_GIT_PASSWORD": self.credentials.password,
            }
        return self._network_env

    def _write_askpass(self) -> Path:
        """The askpass helper beside the work tree; it reads the secret from the environment."""
        path = self.workdir.parent / f".{self.workdir.name}-askpass"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_ASKPASS)
        path.chmod(stat.S_IRWXU)
        return path

    def _failure(self, what: str, text: str) -> GitError:
        """The error for a failed git ``what``, with URL credentials and the password removed."""
        return GitError(f"git {what} failed: {scrub(text.strip(), self._secrets)}")

    def _spawn(self, args: tuple[str, ...], cwd: Path | None, text: bool,
               input: bytes | None = None) -> subprocess.CompletedProcess[Any]:
        """Run one git command in the clone (or ``cwd``), bounded by ``GIT_TIMEOUT``."""
        argv = ["git", "-C", str(cwd or self.workdir), *args]
        try:
            return subprocess.run(argv, env=self._env(network=args[0] in _NETWORK_COMMANDS),
                                  input=input, capture_output=True, text=text,
                                  timeout=GIT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} timed out") from None

    def git(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run a (porcelain) git command in the clone, as text."""
        proc: subprocess.CompletedProcess[str] = self._spawn(args, cwd, text=True)
        if check and proc.returncode != 0:
            raise self._failure(args[0], proc.stderr or proc.stdout)
        return proc

    def _run(self, *args: str, input: bytes | None = None) -> bytes:
        """Run a plumbing command in the clone; its stdout as bytes (no command previewd commits
        with reads the clone's index or work tree)."""
        proc: subprocess.CompletedProcess[bytes] = self._spawn(args, None, text=False, input=input)
        if proc.returncode != 0:
            raise self._failure(args[0], (proc.stderr or proc.stdout).decode("utf-8", "replace"))
        return bytes(proc.stdout)

    # -- the clone: make ready, repair, fetch ----------------------------------------------

    def ensure_ready(self) -> None:
        """Clone on first use; on start and after any failure also remove stale locks, check the
        clone and clone it again if git cannot use it, then fetch."""
        if self._ready:
            return
        gitdir = self.workdir / ".git"
        remove_stale_locks(gitdir)
        if not gitdir.is_dir():
            self._clone()
        else:
            reason = unusable(self.git, self.url, self.branch, deep=self._failures == DEEP_CHECK_AFTER)
            if reason is not None:
                log.warning("re-cloning the GitOps working clone %s: %s", self.workdir, reason)
                self._clone()
        self._algorithm = self.git("rev-parse", "--show-object-format").stdout.strip() or "sha1"
        self._fetch()
        self._ready = True

    def _clone(self) -> None:
        """Clone into a temporary sibling directory, then swap it in (no half-made clone)."""
        fresh = self.workdir.parent / f".{self.workdir.name}.clone"
        shutil.rmtree(fresh, ignore_errors=True)  # leftovers of an interrupted clone
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        self.git("clone", "--quiet", "--no-checkout", "--", self.url, str(fresh), cwd=self.workdir.parent)
        for key, value in (("core.autocrlf", "false"), ("gc.autoDetach", "false"),
                           ("maintenance.autoDetach", "false")):
            # Foreground maintenance only: no background git may hold a lock in the clone.
            self.git("config", key, value, cwd=fresh)
        swap_in(fresh, self.workdir)

    def _fetch(self) -> None:
        self._run("fetch", "--quiet", "--prune", "--no-recurse-submodules", "origin")

    def _make_current(self) -> None:
        """Make ready and fetch, one fetch either way (``ensure_ready`` fetches when it opens
        the clone)."""
        was_ready = self._ready
        self.ensure_ready()
        if was_ready:
            self._fetch()

    def refresh(self) -> None:
        """Make ready and fetch the remote branch (the drift check reads it next)."""
        try:
            self._make_current()
        except GitError:
            self._recover()
            raise

    def tip(self) -> str | None:
        """The remote branch's commit as last fetched or pushed (None: the branch is empty)."""
        # A loose ref holding an object id is read directly: it saves a process per write.
        ref = self.workdir / ".git" / self._tracking
        text = ref.read_text(errors="replace").strip() if ref.is_file() else ""
        if len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text):
            return text
        proc = self.git("rev-parse", "--verify", "--quiet", f"{self._tracking}^{{commit}}", check=False)
        return proc.stdout.strip() or None

    def sync(self) -> None:
        """Make ready, fetch and make the work tree exactly the remote branch (for callers that
        read or edit files there; preview commits never use the work tree)."""
        self._make_current()
        self._check_out()

    def _check_out(self) -> None:
        """Make the work tree exactly the remote branch as last fetched."""
        tip = self.tip()
        self.git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
        index = self.workdir / ".git" / "index"
        if tip is None:
            # Empty remote: forget any local commit and start an unborn branch.
            self.git("update-ref", "-d", f"refs/heads/{self.branch}", check=False)
            index.unlink(missing_ok=True)
        else:
            self.git("update-ref", f"refs/heads/{self.branch}", tip)
            if self.git("reset", "--quiet", "--hard", tip, check=False).returncode != 0:
                index.unlink(missing_ok=True)  # only a cache of the work tree: rebuilt by reset
                self.git("reset", "--quiet", "--hard", tip)
        self.git("clean", "-q", "-f", "-d", "-x")

    def _recover(self) -> None:
        """Forget that the clone is ready: the next use removes locks, checks it and fetches."""
        self._ready = False
        self._failures += 1

    # -- writing -------------------------------------------------------------------------

    def _plan(self, base: str | None, paths: Sequence[str]) -> PlannedCommit:
        scratch = self.workdir / ".git" / "previewd-tmp"
        scratch.mkdir(exist_ok=True)
        return PlannedCommit(self._run, base, paths, self._algorithm, scratch)

    def apply(self, changes: list[FileChange], message: MessageFn) -> str | None:
        """Converge ``changes`` into one commit on the remote branch: the remote head plus exactly
        the changed directories. Returns the new commit, or None when the remote already had
        exactly this content. Raises GitError after bounded retries; the caller keeps the work
        queued. The caller checks the manifests first (``core.manifests``), one directory at
        a time, so one bad directory does not block the others."""

        def build(base: str | None) -> str | None:
            plan = self._plan(base, [c.directory for c in changes])
            effective = [c for c in changes if plan.differs(c.directory, c.files)]
            if not effective:
                return None
            return plan.commit({c.directory: c.files for c in effective}, message(effective))

        return self._converge(build, lambda: None)

    def edit(self, edit: EditFn) -> str | None:
        """Edit files in the work tree and push them as one commit (same retries as ``apply``).

        ``edit`` gets the work tree root and returns (changed relative paths, commit message);
        no paths means nothing to do. Only those paths are committed, as they are in the work
        tree then. It runs again on the fresh tree after a rejected push, so it must decide
        from what it reads there, never from what it read before."""

        def build(base: str | None) -> str | None:
            paths, message = edit(self.workdir)
            if not paths:
                return None
            plan = self._plan(base, paths)
            return plan.commit({p: self._worktree(p) for p in plan.paths}, message)

        return self._converge(build, self._check_out)

    def _worktree(self, rel: str) -> Content:
        path = self.workdir / check_path(rel)
        if path.is_file() and not path.is_symlink():
            return path.read_bytes()
        if path.is_dir():
            return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
                    if p.is_file() and not p.is_symlink()}
        return None

    def _converge(self, build: Callable[[str | None], str | None], fetched: Callable[[], None]) -> str | None:
        """Build on the remote head and push; a rejected push or a failure is retried (with
        backoff, repairing the clone and fetching first, then ``fetched()``) up to
        ``push_attempts`` times."""
        delay = FIRST_RETRY_DELAY
        for attempt in range(self.push_attempts):
            try:
                if attempt:
                    self._sleep(min(delay, MAX_RETRY_DELAY))
                    delay *= 2
                if attempt:
                    self._make_current()  # the remote moved on (or failed): replay on its new head
                    fetched()
                else:
                    self.ensure_ready()
                commit = build(self.tip())
                if commit is None:
                    self._failures = 0
                    return None
                if self._push(commit):
                    self._pushed(commit)
                    return commit
            except GitError:
                self._recover()
                if attempt == self.push_attempts - 1:
                    raise
        raise GitError(f"push to {scrub(self.url, self._secrets)} still rejected after "
                       f"{self.push_attempts} attempts")

    def _pushed(self, commit: str) -> None:
        """Make sure the remote-tracking ref is ``commit`` (push moves it, unless a stale lock
        stopped it: then the next write repairs the clone first)."""
        self._failures = 0
        if self.tip() != commit and self.git("update-ref", self._tracking, commit, check=False).returncode:
            log.warning("pushed %s but could not record it locally; repairing the clone next", commit[:12])
            self._recover()

    def _push(self, commit: str) -> bool:
        """Push ``commit``; False if the remote moved on (non-fast-forward), GitError otherwise."""
        try:
            self._run("push", "--quiet", "--porcelain", "origin", f"{commit}:refs/heads/{self.branch}")
        except GitError as err:
            text = str(err)
            if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
                return False
            raise
        return True

    # -- reading -------------------------------------------------------------------------

    def changed_paths(self, old: str, new: str) -> list[str] | None:
        """Paths changed between two commits (renames as delete + add); None when git cannot
        tell (a commit is unknown, e.g. after history was rewritten)."""
        try:
            out = self._run("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--name-only", old, new)
        except GitError:
            return None
        return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]

    def trees(self, dirs: Sequence[str]) -> dict[str, Tree | None]:
        """The entries of each directory in ``dirs`` at the remote head (None: not there)."""
        tip = self.tip()
        if tip is None:
            return dict.fromkeys(dirs)
        return read_trees(self._run, tip, list(dirs), 32 if self._algorithm == "sha256" else 20)

    def tree_id(self, files: Mapping[str, bytes]) -> str:
        """The tree id a directory holding exactly ``files`` has in this repository."""
        return tree_id(files, self._algorithm)


def init_bare(path: Path) -> None:
    """Create a bare repository at ``path`` if none exists (embedded defaults, tests)."""
    if (path / "HEAD").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)],
        check=True,
        capture_output=True,
    )
