"""Semantic versions and npm-style ranges (``^1.2``, ``~1.2.3``, ``>=1.0.0 <2``, ``1.x``,
``a || b``), as ``deployPolicy.semver`` uses them. Pure.

Pre-releases follow npm: a pre-release version satisfies a comparator set only when one of the
comparators the user wrote names a pre-release of the same ``major.minor.patch``
(``>=1.0.0-rc.1`` admits ``1.0.0-rc.2``, never ``1.5.0-beta``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, total_ordering

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(>=|<=|>|<|=|\^|~)?\s*(v?[0-9xX*][0-9A-Za-z.+*-]*)$")


class RangeError(ValueError):
    """Not a semver range this controller understands."""


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[int | str, ...] = ()

    @property
    def release(self) -> tuple[int, int, int]:
        return self.major, self.minor, self.patch

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        # A release sorts after its pre-releases; numeric identifiers before alphanumeric ones.
        pre = tuple((0, p) if isinstance(p, int) else (1, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()


def parse_version(tag: str) -> Version | None:
    """``v1.2.3``, ``1.2.3-rc.1``, ``1.2`` (patch 0) -> Version; anything else None."""
    m = _SEMVER.match(tag)
    if not m:
        return None
    pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split(".")) if m.group(4) else ()
    return Version(int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), pre)


@dataclass(frozen=True)
class Comparator:
    """``op bound``; ``written`` is False for bounds derived from ``^``, ``~`` or x-ranges,
    which never admit a pre-release."""

    op: str
    bound: Version
    written: bool = True

    def holds(self, version: Version) -> bool:
        b = self.bound
        return {
            ">=": version >= b, ">": version > b, "<=": version <= b, "<": version < b,
            "=": version == b,
        }[self.op]

    def admits_pre_release_of(self, version: Version) -> bool:
        return self.written and bool(self.bound.pre) and self.bound.release == version.release


def _partial(text: str) -> tuple[list[int], bool]:
    """``1.2`` / ``1.x`` -> ([1, 2], wildcard?); raises RangeError."""
    parts = text.lstrip("vV").split("-")[0].split(".")
    numbers: list[int] = []
    for part in parts:
        if part in ("x", "X", "*"):
            return numbers, True
        if not part.isdigit():
            raise RangeError(f"{text!r} is not a version")
        numbers.append(int(part))
    if len(numbers) > 3:
        raise RangeError(f"{text!r} is not a version")
    return numbers, len(numbers) < 3


def _bump(numbers: list[int], position: int) -> Version:
    padded = [*numbers, 0, 0, 0][:3]
    padded[position] += 1
    for i in range(position + 1, 3):
        padded[i] = 0
    return Version(padded[0], padded[1], padded[2], pre=(0,))  # the lowest pre-release: excludes x.y.z-anything


def _comparators(token: str) -> list[Comparator]:
    """One token (``^1.2``, ``>=1.0.0``, ``1.x``) -> comparators, npm semantics."""
    m = _COMPARATOR.match(token)
    if not m:
        raise RangeError(f"{token!r} is not a comparator")
    op, text = m.group(1) or "=", m.group(2)
    numbers, partial = _partial(text)
    if partial and not numbers:
        return []  # "*" / "x": any version
    exact = None if partial else parse_version(text)
    if not partial and exact is None:
        raise RangeError(f"{text!r} is not a version")
    padded = [*numbers, 0, 0, 0]
    low = Comparator(">=", exact or Version(padded[0], padded[1], padded[2]))
    last = len(numbers) - 1
    if op == "^":
        position = next((i for i, n in enumerate(numbers) if n), last)
        return [low, Comparator("<", _bump(numbers, position), written=False)]
    if op == "~":
        return [low, Comparator("<", _bump(numbers, min(last, 1)), written=False)]
    if partial and op == "=":
        return [low, Comparator("<", _bump(numbers, last), written=False)]
    if partial and op == ">":
        return [Comparator(">=", _bump(numbers, last), written=False)]
    if partial and op == "<=":
        return [Comparator("<", _bump(numbers, last), written=False)]
    return [Comparator(op, low.bound)]


@lru_cache(maxsize=256)
def parse_range(text: str) -> tuple[tuple[Comparator, ...], ...]:
    """``>=1.2.0 <2.0.0 || ^3`` -> alternatives of comparator sets; raises RangeError."""
    alternatives = []
    for alternative in text.split("||"):
        tokens = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alternative.strip()).split()
        if not tokens:
            raise RangeError(f"{text!r}: empty range")
        alternatives.append(tuple(c for token in tokens for c in _comparators(token)))
    return tuple(alternatives)


def satisfies(version: Version, text: str) -> bool:
    """Whether ``version`` is in the range (npm's pre-release rule: see the module docstring)."""
    return any(
        all(c.holds(version) for c in alternative)
        and (not version.pre or any(c.admits_pre_release_of(version) for c in alternative))
        for alternative in parse_range(text)
    )
