"""Discover the app-envs of a state-repository checkout and index them by repository.

Layout: ``<path>/<workspace-id>/projects/<project-id>/tenants/<tenant-id>/`` holds
``app-env.yaml`` and ``release.yaml``. A ``Scanner`` re-parses only files whose stat changed
since its last scan, so rescanning 10 000 app-envs after a commit costs a directory walk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from previewd.releases.contract import (
    APP_ENV_FILE,
    RELEASE_FILE,
    AppEnvironment,
    ContractError,
    parse_app_env,
    parse_release,
    same_owner,
)
from previewd.releases.matching import Index

# PyYAML's C loader when built with libyaml: parsing 10 000 app-envs is the scan's main cost.
_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Stable technical identifiers only, never display names: a display name may change, an id must not.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LAYOUT = re.compile(r"^[^/.][^/]*/projects/[^/.][^/]*/tenants/[^/.][^/]*$")


@dataclass(frozen=True)
class EnvEntry:
    """One app-env: its directory relative to the checkout root, and its contents."""

    path: str
    env: AppEnvironment


@dataclass
class ScanResult:
    entries: list[EnvEntry]
    problems: list[str]
    index: Index[EnvEntry]


def _dirs(path: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    except FileNotFoundError:
        return []


def env_dirs(root: Path, base: str) -> list[str]:
    """Every ``<base>/<ws>/projects/<p>/tenants/<t>`` directory holding an app-env.yaml."""
    found = []
    for ws in _dirs(root / base):
        for project in _dirs(root / base / ws / "projects"):
            tenants = root / base / ws / "projects" / project / "tenants"
            for tenant in _dirs(tenants):
                if (tenants / tenant / APP_ENV_FILE).is_file():
                    found.append(f"{base}/{ws}/projects/{project}/tenants/{tenant}")
    return found


class InvalidYaml(ValueError):
    """A contract file that is not UTF-8 YAML."""


def read_yaml(path: Path) -> object:
    """Parse a contract file; InvalidYaml for bad YAML or bytes that are not UTF-8."""
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise InvalidYaml(f"not valid YAML ({err})") from None


def parse_yaml(text: str) -> object:
    """Parse contract text the way ``read_yaml`` does; InvalidYaml for bad YAML."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise InvalidYaml(f"not valid YAML ({err})") from None


@dataclass
class Scanner:
    """Incremental scanner for one checkout; not thread-safe (the controller serialises)."""

    root: Path
    base: str
    environments: Sequence[str] | None = None
    _cache: dict[str, tuple[tuple[int, int, int], EnvEntry | str]] = field(default_factory=dict)

    def _entry(self, rel: str) -> EnvEntry | str:
        file = self.root / rel / APP_ENV_FILE
        st = file.stat()
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(rel)
        if cached is not None and cached[0] == key:
            return cached[1]
        value: EnvEntry | str
        try:
            value = EnvEntry(rel, parse_app_env(read_yaml(file), f"{rel}/{APP_ENV_FILE}",
                                                self.environments))
        except ContractError as err:
            value = "; ".join(f"{err.source}: {p}" for p in err.problems)
        except InvalidYaml as err:
            value = f"{rel}/{APP_ENV_FILE}: {err}"
        self._cache[rel] = (key, value)
        return value

    def scan(self, dirs: Sequence[str] | None = None) -> ScanResult:
        """Walk the layout (or take ``dirs``, from ``env_dirs``); re-parse only files whose
        stat changed."""
        if dirs is None:
            dirs = env_dirs(self.root, self.base)
        for rel in dirs:
            self._entry(rel)
        for gone in set(self._cache) - set(dirs):
            del self._cache[gone]
        return self._result()

    def update(self, changed_dirs: Iterable[str]) -> ScanResult:
        """Re-read only ``changed_dirs`` (from ``git diff``), skipping the directory walk."""
        for rel in changed_dirs:
            if _LAYOUT.match(rel[len(self.base) + 1:]) and rel.startswith(self.base + "/") and (
                    self.root / rel / APP_ENV_FILE).is_file():
                self._entry(rel)
            else:
                self._cache.pop(rel, None)
        return self._result()

    def _result(self) -> ScanResult:
        entries, problems = [], []
        for rel in sorted(self._cache):
            value = self._cache[rel][1]
            if isinstance(value, str):
                problems.append(value)
            else:
                entries.append(value)
        index = Index.build((e.env.repository, e) for e in entries)
        return ScanResult(entries, problems, index)


def check(root: Path, base: str, environments: Sequence[str] | None) -> ScanResult:
    """Everything ``previewd release check`` reports: invalid files, files outside the layout,
    release.yaml not matching its app-env, and repositories claimed more than once."""
    dirs = env_dirs(root, base)
    result = Scanner(root, base, environments).scan(dirs)
    problems = list(result.problems)
    placed = {f"{e}/{APP_ENV_FILE}" for e in dirs}
    for file in sorted((root / base).rglob(APP_ENV_FILE)):
        rel = file.relative_to(root).as_posix()
        if rel not in placed:
            problems.append(f"{rel}: outside the layout {base}/<workspace>/projects/<project>/"
                            "tenants/<tenant>/ (ignored by the controller)")
    for entry in result.entries:
        for segment in entry.path[len(base) + 1:].split("/")[0::2]:
            if not _ID.match(segment):
                problems.append(f"{entry.path}: {segment!r} is not a stable identifier")
        release_file = root / entry.path / RELEASE_FILE
        if not release_file.is_file():
            continue  # before the first release there is nothing to check
        source = f"{entry.path}/{RELEASE_FILE}"
        try:
            release = parse_release(read_yaml(release_file), source, environments)
        except ContractError as err:
            problems += [f"{source}: {p}" for p in err.problems]
            continue
        except InvalidYaml as err:
            problems.append(f"{source}: {err}")
            continue
        problems += [f"{source}: {p}" for p in same_owner(entry.env, release)]
    for match in result.index.conflicts():
        paths = ", ".join(e.path for e in match.claims)
        problems.append(f"repository {match.repository} is claimed by {len(match.claims)} "
                        f"app-envs ({paths}); the controller releases none of them")
    return ScanResult(result.entries, problems, result.index)
