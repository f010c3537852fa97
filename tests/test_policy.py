"""Trigger and trust policy, and snapshot ordering."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.core.ordering import supersedes
from previewd.core.policy import Trigger, decide
from tests.support import make_pr

PR = make_pr()
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "change, code",
    [
        ({}, "ok"),
        ({"state": "closed"}, "closed"),
        ({"state": "closed", "merged": True}, "merged"),
        ({"draft": True}, "draft"),
        ({"head_repo": "evil/shop"}, "fork"),
        ({"head_repo": None}, "fork"),
        ({"author_type": "Bot"}, "bot"),
        ({"author_login": "dependabot[bot]"}, "bot"),
        ({"labels": ()}, "no-label"),
        ({"labels": ("preview", "no-preview")}, "excluded"),
    ],
)
def test_decisions(change: dict[str, object], code: str) -> None:
    decision = decide(replace(PR, **change), Trigger())  # type: ignore[arg-type]
    assert decision.code == code
    assert decision.allowed == (code == "ok")
    assert decision.reason


def test_policy_switches_allow_forks_bots_drafts() -> None:
    trigger = Trigger(labels=(), forks=True, bots=True, drafts=True)
    pr = replace(PR, labels=(), head_repo="someone/shop", author_type="Bot", draft=True)
    assert decide(pr, trigger).allowed


def test_maintainer_request_replaces_only_the_label() -> None:
    assert decide(replace(PR, labels=()), Trigger(), requested=True).code == "requested"
    assert not decide(replace(PR, head_repo="evil/shop"), Trigger(), requested=True).allowed


@given(
    st.sampled_from(["open", "closed"]), st.booleans(), st.booleans(),
    st.lists(st.sampled_from(["preview", "no-preview", "bug", "x"]), max_size=4),
    st.sampled_from(["acme/shop", "evil/shop", None]), st.sampled_from(["User", "Bot"]),
)
def test_closed_fork_bot_never_get_a_preview_by_default(
    state: str, merged: bool, draft: bool, labels: list[str], head: str | None, author: str
) -> None:
    pr = replace(PR, state=state, merged=merged, draft=draft, labels=tuple(labels),
                 head_repo=head, author_type=author)
    decision = decide(pr, Trigger())
    if decision.allowed:
        assert state == "open" and not merged and not draft
        assert head == "acme/shop" and author == "User"
        assert "preview" in labels and "no-preview" not in labels


def test_older_snapshots_never_win() -> None:
    newer = replace(PR, updated_at="2026-01-02T00:00:00Z")
    assert not supersedes(PR, newer, "synchronize", NOW)
    assert supersedes(newer, PR, "synchronize", NOW)


def test_closed_stays_closed_unless_reopened() -> None:
    closed = replace(PR, state="closed", updated_at="2026-01-02T00:00:00Z")
    replay = replace(PR, updated_at="2026-01-02T00:00:00Z")
    assert not supersedes(replay, closed, "opened", NOW)
    assert not supersedes(replay, closed, "synchronize", NOW)
    assert supersedes(replay, closed, "reopened", NOW)
    later = replace(PR, updated_at="2026-01-03T00:00:00Z")
    assert supersedes(later, closed, "api", NOW)  # a GET showing it open again, later


def test_a_stored_far_future_date_does_not_freeze_the_pr() -> None:
    """A record dated "9999-..." (stored before intake refused such dates) must not make every
    real later snapshot look stale: a real close replaces it."""
    frozen = replace(PR, updated_at="9999-12-31T00:00:00Z")
    closed = replace(PR, state="closed", updated_at="2026-05-31T00:00:00Z")
    assert supersedes(closed, frozen, "closed", NOW)
    bogus = replace(PR, updated_at="9999-99-99")  # not even a date: sorts after every real one
    assert supersedes(closed, bogus, "closed", NOW)
    near = replace(PR, updated_at="2026-06-01T00:30:00Z")  # within the allowed clock skew: trusted
    assert not supersedes(closed, near, "closed", NOW)
