"""Which app-env claims a pushed repository: normalisation and an exactly-one-match index.

Two spellings name the same repository when they normalise equal:

- the registry host is case-insensitive and its default port (443, 80) is dropped;
- Docker Hub answers to ``docker.io``, ``index.docker.io`` and ``registry-1.docker.io`` and
  to a bare ``name`` or ``user/name`` without a host; its one-segment names live in ``library/``;
- repository paths are case-sensitive in the distribution spec (which only allows lower case),
  but some registries fold case on their own (GHCR from GitHub owner names, Docker Hub,
  Quay): for those the path is folded too.

The index maps a normalised repository to every app-env claiming it, so a lookup is one dict
access regardless of how many app-envs the state repository holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from previewd.images import DOCKER_HUB, DOCKER_HUB_ALIASES, REPOSITORY_COMPONENT, split_host

_DEFAULT_PORTS = (":443", ":80")
# Registries known to treat repository paths case-insensitively.
CASE_FOLDING_REGISTRIES = frozenset({DOCKER_HUB, "ghcr.io", "quay.io"})
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")
_COMPONENT = re.compile(rf"^{REPOSITORY_COMPONENT}$", re.IGNORECASE)  # case is folded after the check


class RepositoryError(ValueError):
    """Not an image repository (``host/path`` without tag, digest or scheme)."""


@dataclass(frozen=True, order=True)
class Repository:
    """A normalised image repository: ``host`` without default port, ``path`` inside it."""

    host: str
    path: str

    def __str__(self) -> str:
        return f"{self.host}/{self.path}"


def normalise(reference: str) -> Repository:
    """``Harbor.Example.TLD:443/team/app`` -> ``harbor.example.tld/team/app``; raises
    RepositoryError for anything with a scheme, tag, digest or empty component."""
    text = reference.strip()
    if "://" in text or "@" in text or not text:
        raise RepositoryError(f"{reference!r}: expected host/path without scheme, tag or digest")
    host, path = split_host(text)
    if not _HOST.match(host):
        raise RepositoryError(f"{reference!r}: {host!r} is not a registry host")
    for port in _DEFAULT_PORTS:
        host = host.removesuffix(port)
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    components = path.split("/")
    if not all(_COMPONENT.match(c) for c in components):
        # A ':' in the path is a tag: the contract names repositories, not images.
        raise RepositoryError(f"{reference!r}: {path!r} is not a repository path (no tag, no digest)")
    if host == DOCKER_HUB and len(components) == 1:
        components = ["library", *components]
    folded = "/".join(components)
    if host in CASE_FOLDING_REGISTRIES:
        folded = folded.lower()
    return Repository(host, folded)


T = TypeVar("T")


@dataclass(frozen=True)
class Match(Generic[T]):
    """The claims on one repository: exactly one is a release target; more is a conflict."""

    repository: Repository
    claims: tuple[T, ...]

    @property
    def unique(self) -> T | None:
        return self.claims[0] if len(self.claims) == 1 else None

    @property
    def conflict(self) -> bool:
        return len(self.claims) > 1


@dataclass
class Index(Generic[T]):
    """Normalised repository -> every claim on it, in insertion order."""

    claims: dict[Repository, list[T]] = field(default_factory=dict)

    @classmethod
    def build(cls, items: Iterable[tuple[Repository, T]]) -> Index[T]:
        index: Index[T] = cls()
        for repository, item in items:
            index.claims.setdefault(repository, []).append(item)
        return index

    def match(self, repository: Repository) -> Match[T]:
        return Match(repository, tuple(self.claims.get(repository, ())))

    def conflicts(self) -> list[Match[T]]:
        """Every repository claimed more than once, sorted."""
        return [Match(r, tuple(c)) for r, c in sorted(self.claims.items()) if len(c) > 1]

    def __len__(self) -> int:
        return sum(len(c) for c in self.claims.values())
