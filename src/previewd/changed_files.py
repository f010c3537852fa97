"""Which monorepo services a PR changed: path globs with ``**`` matched against changed files.

Pure: the changed file names come from the SCM adapter, the globs from config. A file name is
attacker-controlled text; it is only compared, never used to build a name or a path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

MAX_GLOB = 256  # characters of one path glob
MAX_CHANGED_FILES = 3000  # GitHub lists at most 3000 files of a pull request
_GLOB_CHARS = re.compile(r"^[A-Za-z0-9._\-/*?\[\]!@+]+$")


def check_glob(glob: str) -> None:
    """Raise ValueError unless ``glob`` is a relative path glob previewd can match."""
    if not glob or len(glob) > MAX_GLOB or not _GLOB_CHARS.match(glob):
        raise ValueError(f"path glob {glob!r}: expected 1 to {MAX_GLOB} of [A-Za-z0-9._-/*?[]!@+]")
    if glob.startswith("/") or any(part in ("", ".", "..") for part in glob.split("/")):
        raise ValueError(f"path glob {glob!r} must be relative, without empty, '.' or '..' parts")
    if any("**" in part and part != "**" for part in glob.split("/")):
        raise ValueError(f"path glob {glob!r}: '**' must be a whole path part")
    _compile(glob)


@cache
def _compile(glob: str) -> re.Pattern[str]:
    """``**`` spans any number of path parts; ``*`` and ``?`` stay inside one; ``[...]`` a class."""
    out: list[str] = []
    parts = glob.split("/")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        out.append(_part(part) + ("" if last else "/"))
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as err:
        raise ValueError(f"path glob {glob!r}: {err}") from None


def _part(part: str) -> str:
    pattern, i = "", 0
    while i < len(part):
        char = part[i]
        if char == "*":
            pattern += "[^/]*"
        elif char == "?":
            pattern += "[^/]"
        elif char == "[":
            end = part.find("]", i + 1)
            if end == -1:
                raise ValueError(f"unclosed '[' in {part!r}")
            body = part[i + 1:end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise ValueError(f"empty '[]' in {part!r}")
            pattern += f"[{'^' if negate else ''}{re.escape(body).replace(chr(92) + '-', '-')}]"
            i = end
        else:
            pattern += re.escape(char)
        i += 1
    return pattern


def matches(glob: str, path: str) -> bool:
    """True if the repository-relative ``path`` matches ``glob``."""
    return _compile(glob).match(path) is not None


@dataclass(frozen=True)
class CanaryChoice:
    """A service that runs as a canary, and the first changed file (with its glob) that made it."""

    service: str
    path: str
    glob: str


def changed_services(services: Sequence[tuple[str, Sequence[str]]],
                     changed: Iterable[str]) -> list[CanaryChoice]:
    """The services (``(name, globs)``, in config order) whose globs match a changed file."""
    files = sorted(set(changed))
    chosen: list[CanaryChoice] = []
    for name, globs in services:
        hit = next(((path, glob) for path in files for glob in globs if matches(glob, path)), None)
        if hit is not None:
            chosen.append(CanaryChoice(name, hit[0], hit[1]))
    return chosen
