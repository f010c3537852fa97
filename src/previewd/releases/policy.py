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

from previewd.releases.contract import AppEnvironment
from previewd.releases.semver import parse_version, satisfies


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
