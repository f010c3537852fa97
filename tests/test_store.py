"""The store: durable events with delivery de-duplication, preview records, pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from previewd.adapters.store.sql import Store


def test_events_survive_reopen_and_deduplicate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s/previewd.db"
    store = Store(url)
    assert store.add_event("github", "d1", "pull_request", b"{}")
    assert not store.add_event("github", "d1", "pull_request", b"{}")
    assert store.add_event("registry", "d1", "distribution", b"{}")  # other source, own ids
    store.close()
    again = Store(url)
    assert [e.delivery for e in again.pending_events()] == ["d1", "d1"]


def test_failed_events_are_retried_then_given_up(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.add_event("github", "d1", "pull_request", b"{}")
    (event,) = store.pending_events()
    store.fail_event(event.id, "boom", give_up=False)
    (retry,) = store.pending_events()
    assert retry.attempts == 1
    store.fail_event(event.id, "boom", give_up=True)
    assert store.pending_events() == []


def test_prune_forgets_only_old_handled_events(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.add_event("github", "old", "pull_request", b"{}")
    store.add_event("github", "pending", "pull_request", b"{}")
    with store.transaction() as conn:
        store.finish_event(conn, store.pending_events()[0].id)
    assert store.prune_events(datetime.now(UTC) - timedelta(days=1)) == 0
    assert store.prune_events(datetime.now(UTC) + timedelta(seconds=5)) == 1
    assert [e.delivery for e in store.pending_events()] == ["pending"]
    assert store.count_events() == 1
