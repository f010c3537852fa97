"""Trust and trigger policy: does this PR get a preview? Pure; returns a Decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from previewd.core.models import Decision, PullRequest


@dataclass(frozen=True)
class Trigger:
    """A repository's trigger policy (mirrors ``repositories[].trigger`` in the config)."""

    labels: Sequence[str] = ("preview",)
    exclude_labels: Sequence[str] = ("no-preview",)
    drafts: bool = False
    forks: bool = False
    bots: bool = False


def decide(pr: PullRequest, trigger: Trigger, *, requested: bool = False, stopped: bool = False) -> Decision:
    """Decide from the PR's current facts. ``requested``: a maintainer asked via ``/preview``;
    ``stopped``: a maintainer said ``/preview stop`` (wins over the label until ``/preview``)."""
    if pr.merged:
        return Decision(False, "PR was merged", "merged")
    if not pr.is_open:
        return Decision(False, "PR is closed", "closed")
    if pr.is_fork and not trigger.forks:
        return Decision(False, "PR comes from a fork; forks get no preview by policy", "fork")
    if pr.is_bot and not trigger.bots:
        return Decision(False, "PR was opened by a bot; bots get no preview by policy", "bot")
    if pr.draft and not trigger.drafts:
        return Decision(False, "PR is a draft; mark it ready for review for a preview", "draft")
    if stopped:
        return Decision(False, "preview stopped with /preview stop", "stopped")
    excluded = sorted(set(pr.labels) & set(trigger.exclude_labels))
    if excluded:
        return Decision(False, f"label {excluded[0]!r} excludes previews", "excluded")
    missing = [label for label in trigger.labels if label not in pr.labels]
    if missing and not requested:
        return Decision(False, f"label {missing[0]!r} is not set", "no-label")
    if missing:
        return Decision(True, "preview requested by a maintainer", "requested")
    return Decision(True, "preview enabled", "ok")
