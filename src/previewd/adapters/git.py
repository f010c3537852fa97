"""The real ``git`` binary, driven with argv lists and ``git -C``; errors scrubbed of secrets.

A ``GitWorkspace`` keeps one clone of a remote branch and converges directories in it: write
or remove, commit, push; a rejected push is fetched, rebased and retried with backoff, never
forced.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from previewd.core.models import FileChange
from previewd.errors import PermanentError, TransientError, scrub

# Only these talk to the remote; every other command runs without the credential variables.
_NETWORK_COMMANDS = frozenset({"clone", "fetch", "push"})
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$PREVIEWD_GIT_USERNAME" ;;
  *) printf '%s\\n' "$PREVIEWD_GIT_PASSWORD" ;;
esac
"""


MessageFn = Callable[[list[FileChange]], str]
EditFn = Callable[[Path], tuple[list[str], str]]  # work tree -> (changed paths, commit message)


class GitError(TransientError):
    """A git command failed; the message has credentials removed."""


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
        self._secrets = (credentials.password,)
        # The environment of every git run, built once: the process's own minus any GIT_*.
        self._base_env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self._base_env.update(
            GIT_TERMINAL_PROMPT="0",
            GIT_AUTHOR_NAME=identity.name,
            GIT_AUTHOR_EMAIL=identity.email,
            GIT_COMMITTER_NAME=identity.name,
            GIT_COMMITTER_EMAIL=identity.email,
            GIT_CONFIG_NOSYSTEM="1",
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

    def git(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        argv = ["git", "-C", str(cwd or self.workdir), *args]
        env = self._env(network=args[0] in _NETWORK_COMMANDS)
        try:
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} timed out") from None
        if check and proc.returncode != 0:
            raise self._failure(args[0], proc.stderr or proc.stdout)
        return proc

    # -- clone and sync ------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Clone on first use; afterwards only verify the clone is still there."""
        if self._ready and (self.workdir / ".git").is_dir():
            return
        if not (self.workdir / ".git").is_dir():
            if self.workdir.exists():
                shutil.rmtree(self.workdir)
            self.workdir.parent.mkdir(parents=True, exist_ok=True)
            self.git("clone", "--quiet", "--", self.url, str(self.workdir), cwd=self.workdir.parent)
        self.git("config", "core.autocrlf", "false")
        self.sync()
        self._ready = True

    def _remote_has_branch(self) -> bool:
        proc = self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{self.branch}", check=False)
        return proc.returncode == 0

    def sync(self) -> None:
        """Make the work tree exactly the remote branch (discarding unpushed local work)."""
        self.git("fetch", "--quiet", "--prune", "origin")
        if self._remote_has_branch():
            self.git("checkout", "--quiet", "-B", self.branch, f"origin/{self.branch}")
            self.git("reset", "--quiet", "--hard", f"origin/{self.branch}")
        else:
            # Empty remote: forget any unpushed local commit and start an unborn branch.
            self.git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
            self.git("update-ref", "-d", f"refs/heads/{self.branch}", check=False)
            self.git("rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
        self.git("clean", "-q", "-f", "-d", "-x")

    def head(self) -> str | None:
        # Read the loose ref directly: it saves a process on the hot path after every push.
        ref = self.workdir / ".git" / "refs" / "heads" / self.branch
        if ref.is_file():
            return ref.read_text().strip() or None
        proc = self.git("rev-parse", "--verify", "--quiet", "HEAD", check=False)
        return proc.stdout.strip() or None

    # -- writing -------------------------------------------------------------------------

    def _write(self, changes: list[FileChange]) -> list[FileChange]:
        """Write the changes that differ from the work tree; return those."""
        effective = []
        for change in changes:
            if dict(self.read_tree(change.directory)) == (change.files or {}):
                continue
            effective.append(change)
            target = self._safe_path(change.directory)
            if target.exists():
                shutil.rmtree(target)
            for rel, content in (change.files or {}).items():
                path = self._safe_path(f"{change.directory}/{rel}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        return effective

    def _safe_path(self, rel: str) -> Path:
        root = self.workdir.resolve()
        path = (root / rel).resolve()
        if rel.startswith("/") or ".." in Path(rel).parts or root not in path.parents:
            raise PermanentError(f"refusing to write outside the GitOps work tree: {rel!r}")
        return path

    def _commit(self, changes: list[FileChange], message: MessageFn) -> bool:
        """Write and commit what differs; False when the tree already matched."""
        effective = self._write(changes)
        if not effective:
            return False
        self.git("add", "--all", "--", *[c.directory for c in effective])
        return self._commit_index(message(effective))

    def _commit_index(self, message: str) -> bool:
        """Commit what is staged; False when nothing was."""
        proc = self.git("commit", "--quiet", "--no-verify", "-m", message, check=False)
        if proc.returncode == 0:
            return True
        if "nothing to commit" in proc.stdout or "nothing added to commit" in proc.stdout:
            return False
        raise self._failure("commit", proc.stderr or proc.stdout)

    def _push(self) -> bool:
        """Push; False if the remote moved on (non-fast-forward), GitError otherwise."""
        proc = self.git("push", "--quiet", "--porcelain", "origin", f"HEAD:refs/heads/{self.branch}", check=False)
        if proc.returncode == 0:
            return True
        text = proc.stdout + proc.stderr
        if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
            return False
        raise self._failure("push", text)

    def apply(self, changes: list[FileChange], message: MessageFn) -> str | None:
        """Converge ``changes`` into one commit on the remote branch. Returns the new commit, or
        None when the remote already had exactly this content. Raises GitError after bounded
        retries; the caller keeps the work queued."""
        return self._converge(lambda: self._commit(changes, message))

    def edit(self, edit: EditFn) -> str | None:
        """Edit files in place and push them as one commit (same retries as ``apply``).

        ``edit`` gets the work tree root and returns (changed relative paths, commit message);
        no paths means nothing to do. It runs again on the fresh tree after a rebase conflict,
        so it must decide from what it reads there, never from what it read before."""
        return self._converge(lambda: self._commit_edit(edit))

    def _commit_edit(self, edit: EditFn) -> bool:
        paths, message = edit(self.workdir)
        if not paths:
            return False
        for rel in paths:
            self._safe_path(rel)
        self.git("add", "--all", "--", *paths)
        return self._commit_index(message)

    def _converge(self, commit: Callable[[], bool]) -> str | None:
        """Commit (False: nothing to do) and push; on rejection fetch and rebase, and when that
        fails too, back off, sync once and commit again on the fresh tree."""
        self.ensure_ready()
        delay = 0.05
        for attempt in range(self.push_attempts):
            if attempt:
                self._sleep(min(delay, 5.0))
                delay *= 2
                if self._ready:
                    self.sync()
                else:
                    self.ensure_ready()  # after a GitError: re-clone if needed, then sync
            try:
                if not commit():
                    return None
                if self._push():
                    return self.head()
                # Someone else pushed: replay our change on top of theirs.
                self.git("fetch", "--quiet", "origin")
                if self.git("rebase", "--quiet", f"origin/{self.branch}", check=False).returncode != 0:
                    self.git("rebase", "--abort", check=False)
                elif self._push():
                    return self.head()
            except GitError:
                self._recover()
                if attempt == self.push_attempts - 1:
                    raise
        self._recover()  # the tree holds our unpushed commit: the next call must sync first
        raise GitError(f"push to {scrub(self.url, self._secrets)} still rejected after "
                       f"{self.push_attempts} attempts")

    def _recover(self) -> None:
        """Forget that the clone is ready: the next use re-clones if needed and syncs."""
        self._ready = False

    def changed_paths(self, old: str, new: str) -> list[str] | None:
        """Paths changed between two commits (renames as delete + add); None when git cannot
        tell (a commit is unknown, e.g. after history was rewritten)."""
        proc = self.git("diff", "--name-only", "--no-renames", old, new, "--", check=False)
        if proc.returncode != 0:
            return None
        return proc.stdout.splitlines()

    def read_tree(self, rel: str) -> Mapping[str, bytes]:
        """Files below ``rel`` in the work tree (for tests and diagnostics)."""
        base = self._safe_path(rel)
        if not base.exists():
            return {}
        return {
            str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()
        }


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
