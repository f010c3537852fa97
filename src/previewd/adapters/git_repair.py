"""Keep previewd's working clone usable: stale locks, a broken HEAD or ref, a lost clone.

previewd is the only writer of its working clone and runs one git command at a time there, so
any ``*.lock`` seen between two commands was left by a killed one and is removed. A clone git
no longer accepts (garbage ``HEAD``, a broken ref, missing objects, another origin) is cloned
again into a temporary directory beside it and swapped in; nothing is lost, because every
unpushed change is still queued in the store.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("previewd.git")

Git = Callable[..., subprocess.CompletedProcess[str]]  # git(*args, check=False) in the clone


def remove_stale_locks(gitdir: Path) -> list[str]:
    """Remove every ``*.lock`` below ``gitdir`` (object store excluded); returns what it removed."""
    removed: list[str] = []
    if not gitdir.is_dir():
        return removed
    for root, dirs, files in os.walk(gitdir):
        if Path(root) == gitdir and "objects" in dirs:
            dirs.remove("objects")  # holds no locks and may be large
        for name in files:
            if name.endswith(".lock"):
                path = Path(root) / name
                path.unlink(missing_ok=True)
                removed.append(str(path.relative_to(gitdir)))
    if removed:
        log.warning("removed stale git lock(s) left by a killed git process: %s", ", ".join(removed))
    return removed


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stderr or proc.stdout).strip().splitlines()[0] if (proc.stderr or proc.stdout).strip() else ""


def unusable(git: Git, url: str, branch: str, deep: bool = False) -> str | None:
    """Why the clone cannot be used as it is, or None. Repairs what it owns on the way (HEAD
    pointing elsewhere). ``deep`` adds a connectivity check of every object (slower)."""
    proc = git("rev-parse", "--git-dir", check=False)
    if proc.returncode != 0:
        return f"not a git repository any more ({_said(proc)})"
    origin = git("config", "--get", "remote.origin.url", check=False).stdout.strip()
    if origin != url:
        return "its origin is not the configured URL"
    refs = git("for-each-ref", "--format=%(objectname) %(objecttype) %(refname)", check=False)
    if refs.returncode != 0 or refs.stderr.strip():
        return f"a broken ref ({_said(refs)})"
    tip = f"refs/remotes/origin/{branch}"
    if tip in refs.stdout and git("cat-file", "-e", f"{tip}^{{tree}}", check=False).returncode != 0:
        return f"the tree of {tip} is missing"
    if git("symbolic-ref", "-q", "HEAD", check=False).stdout.strip() != f"refs/heads/{branch}":
        git("symbolic-ref", "HEAD", f"refs/heads/{branch}")
    if deep:
        fsck = git("fsck", "--connectivity-only", "--no-dangling", "--no-progress", check=False)
        if fsck.returncode != 0:
            return f"git fsck failed ({_said(fsck)})"
    return None


def swap_in(fresh: Path, workdir: Path) -> None:
    """Replace ``workdir`` with the clone at ``fresh`` (a sibling directory)."""
    broken = workdir.parent / f".{workdir.name}.broken"
    shutil.rmtree(broken, ignore_errors=True)
    if workdir.exists():
        try:
            workdir.rename(broken)
        except OSError:  # a mount point cannot be renamed: replace its contents instead
            for child in workdir.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            for child in fresh.iterdir():
                child.rename(workdir / child.name)
            fresh.rmdir()
            return
    fresh.rename(workdir)
    shutil.rmtree(broken, ignore_errors=True)
