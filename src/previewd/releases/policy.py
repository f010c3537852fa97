"""What to do with a resolved push for one app-env: release, hold as pending, or nothing.

Pure. A release never goes backwards: the digest already released writes nothing; a digest
this environment released before is not released again automatically (a late or duplicate
notification of an old push; rolling back is an explicit promotion); with a semver filter a
lower version than the current one is refused. An older push of the same tag needs no rule
here: the controller re-resolves the tag, so it sees the newest digest, not the stale one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering

from previewd.releases.contract import AppEnvironment

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


Comparator = tuple[str, Version]


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
    low = exact or Version(padded[0], padded[1], padded[2])
    last = len(numbers) - 1
    if op == "^":
        position = next((i for i, n in enumerate(numbers) if n), last)
        return [(">=", low), ("<", _bump(numbers, position))]
    if op == "~":
        return [(">=", low), ("<", _bump(numbers, min(last, 1)))]
    if partial and op == "=":
        return [(">=", low), ("<", _bump(numbers, last))]
    if partial and op == ">":
        return [(">=", _bump(numbers, last))]
    if partial and op == "<=":
        return [("<", _bump(numbers, last))]
    return [(op, low)]


def parse_range(text: str) -> list[list[Comparator]]:
    """``>=1.2.0 <2.0.0 || ^3`` -> alternatives of comparator sets; raises RangeError."""
    alternatives = []
    for alternative in text.split("||"):
        tokens = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alternative.strip()).split()
        if not tokens:
            raise RangeError(f"{text!r}: empty range")
        alternatives.append([c for token in tokens for c in _comparators(token)])
    return alternatives


def _holds(version: Version, op: str, bound: Version) -> bool:
    return {
        ">=": version >= bound, ">": version > bound, "<=": version <= bound,
        "<": version < bound, "=": version == bound,
    }[op]


def satisfies(version: Version, text: str) -> bool:
    """Whether ``version`` is in the range. Pre-releases only match a range that names one."""
    allows_pre = "-" in text
    if version.pre and not allows_pre:
        return False
    return any(all(_holds(version, op, b) for op, b in alt) for alt in parse_range(text))


class Action(StrEnum):
    RELEASE = "release"
    PENDING = "pending"
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


@dataclass(frozen=True)
class Current:
    """What ``release.yaml`` holds now, and every digest this environment released before."""

    digest: str | None
    tag: str | None
    released: Collection[str] = ()


def tag_allowed(env: AppEnvironment, tag: str) -> tuple[bool, str]:
    policy = env.spec.registry.deployPolicy
    if policy.tagPattern is not None and not re.fullmatch(policy.tagPattern, tag):
        return False, f"tag {tag!r} does not match tagPattern {policy.tagPattern!r}"
    if policy.semver is not None:
        version = parse_version(tag)
        if version is None or not satisfies(version, policy.semver):
            return False, f"tag {tag!r} is not in semver range {policy.semver!r}"
    return True, "tag allowed"


def decide(env: AppEnvironment, tag: str, digest: str, current: Current,
           manual_environments: Collection[str]) -> Decision:
    """The decision for a push of ``tag`` resolved to ``digest`` (the registry's answer)."""
    allowed, why = tag_allowed(env, tag)
    if not allowed:
        return Decision(Action.SKIP, why)
    if digest == current.digest:
        return Decision(Action.SKIP, f"{digest} is already the release")
    if digest in current.released:
        return Decision(Action.SKIP, f"{digest} was released before; promote to roll back")
    if env.spec.registry.deployPolicy.semver is not None and current.tag is not None:
        new, old = parse_version(tag), parse_version(current.tag)
        if new is not None and old is not None and new < old:
            return Decision(Action.SKIP, f"{tag} is lower than the released {current.tag}")
    if env.mode(list(manual_environments)) == "manual":
        return Decision(Action.PENDING, "manual deploy policy: waiting for promotion")
    return Decision(Action.RELEASE, "auto deploy policy")
