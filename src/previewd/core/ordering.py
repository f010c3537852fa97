"""Which PR snapshot wins when events arrive late, twice or out of order."""

from __future__ import annotations

from datetime import datetime

from previewd.core.models import PullRequest
from previewd.core.values import is_far_future

REOPENING_ACTIONS = frozenset({"reopened"})


def supersedes(new: PullRequest, old: PullRequest | None, action: str, now: datetime) -> bool:
    """True if ``new`` should replace the stored snapshot ``old``.

    Snapshots are ordered by GitHub's ``updated_at``; an older one never wins. A closed PR
    stays closed unless the new snapshot is a reopening, so a replayed ``opened`` or
    ``synchronize`` cannot resurrect a torn-down preview. A stored ``updated_at`` beyond
    ``now`` plus the allowed clock skew (written before intake refused such values) orders
    nothing: the next snapshot replaces it, so one bogus date cannot freeze a PR forever.
    """
    if old is None:
        return True
    if is_far_future(old.updated_at, now):
        return True
    if new.updated_at < old.updated_at:
        return False
    if not old.is_open and new.is_open:
        return action in REOPENING_ACTIONS or (new.updated_at > old.updated_at and action == "api")
    return True
