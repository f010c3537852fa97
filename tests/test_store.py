"""The store contract, run over every implementation: SQLite and a real PostgreSQL server.

Covers the three store modules on the shared engine: events (durability, delivery
de-duplication, retries, pruning), preview records, GitHub feedback state and release state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import literal, select

from previewd.adapters.store.columns import BoundedString, StoreLimitError
from previewd.adapters.store.github_state import FeedbackRow, GithubState
from previewd.adapters.store.releases import MAX_PUSH_ATTEMPTS, ReleaseStore, release_queue
from previewd.adapters.store.sql import Store, events, metadata, previews
from previewd.config.services import StoreConfig
from previewd.core.limits import INT32_MAX, INT32_MIN, MAX_DELIVERY_ID_CHARS, MAX_REPO_NAME_CHARS
from previewd.core.models import Preview, PreviewState, PullRequest
from previewd.errors import TransientError
from tests.support import free_port, make_pr, make_preview

SHA512 = "sha512:" + "e" * 128  # OCI allows it; longer than a sha256 digest
BIG_ID = 2**31 + 7  # GitHub comment ids no longer fit in 32 bits


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store database, one per test, for each implementation."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state/previewd.db"
    url: str = request.getfixturevalue("postgres").new_database()
    return url


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Open (or reopen) the test's store; every store opened is closed at the end."""
    opened: list[Store] = []

    def open_() -> Store:
        opened.append(Store(store_url))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()


def pr(number: int = 42, sha: str = "a" * 40, repo: str = "acme/shop") -> PullRequest:
    return make_pr(number=number, head_sha=sha, repo=repo)


def preview(number: int = 42, repo: str = "acme/shop", **fields: object) -> Preview:
    return make_preview(**{"number": number, "repo": repo, "generation": 1,
                           "extra": {"comment": BIG_ID}, **fields})


# -- configuration -----------------------------------------------------------------------


def test_plain_postgresql_url_selects_psycopg() -> None:
    assert StoreConfig(url="postgresql://u@db:5432/previewd").url == "postgresql+psycopg://u@db:5432/previewd"
    assert StoreConfig(url="postgresql+psycopg://u@db/p").url == "postgresql+psycopg://u@db/p"
    assert StoreConfig(url="sqlite:///x.db").url == "sqlite:///x.db"


def test_unreachable_server_is_a_transient_error_without_the_password() -> None:
    with pytest.raises(TransientError) as caught:
        Store(f"postgresql+psycopg://previewd:hunter2@127.0.0.1:{free_port()}/previewd")
    assert "cannot open" in str(caught.value) and "hunter2" not in str(caught.value)


# -- events ------------------------------------------------------------------------------


def test_events_survive_reopen_and_deduplicate(open_store: Callable[[], Store]) -> None:
    store = open_store()
    body = b'{"a": 1}\x00\xff'  # stored as bytes, not text
    assert store.add_event("github", "d1", "pull_request", body)
    assert not store.add_event("github", "d1", "pull_request", b"{}")
    assert store.add_event("registry", "d1", "distribution", b"{}")  # other source, own ids
    assert store.add_event("github", "d2", "pull_request", b"{}")  # the store still works
    store.close()
    again = open_store()
    pending = again.pending_events()
    assert [(e.source, e.delivery) for e in pending] == [("github", "d1"), ("registry", "d1"), ("github", "d2")]
    assert pending[0].body == body and isinstance(pending[0].body, bytes)
    assert again.count_events() == 3


def test_finishing_is_atomic_with_the_work(store: Store) -> None:
    store.add_event("github", "d1", "pull_request", b"{}")
    (event,) = store.pending_events()
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.finish_event(conn, event.id)
        raise RuntimeError("handler failed")
    assert [e.id for e in store.pending_events()] == [event.id]
    with store.transaction() as conn:
        store.finish_event(conn, event.id)
    assert store.pending_events() == []
    assert not store.add_event("github", "d1", "pull_request", b"{}")  # handled ids stay known


def test_failed_events_are_retried_then_given_up(store: Store) -> None:
    store.add_event("github", "d1", "pull_request", b"{}")
    (event,) = store.pending_events()
    store.fail_event(event.id, "boom\x00" + "x" * 5000, give_up=False)  # NUL: PostgreSQL text refuses it
    (retry,) = store.pending_events()
    assert retry.attempts == 1
    with store.transaction() as conn:
        (error,) = conn.execute(select(events.c.last_error)).scalars()
    assert error.startswith("boom") and "\x00" not in error and len(error) == 2000
    store.fail_event(event.id, "boom", give_up=True)
    assert store.pending_events() == []


def test_pending_events_come_in_arrival_order_up_to_the_limit(store: Store) -> None:
    for n in range(5):
        store.add_event("github", f"d{n}", "pull_request", b"{}")
    assert [e.delivery for e in store.pending_events(limit=3)] == ["d0", "d1", "d2"]


def test_prune_forgets_only_old_handled_events(store: Store) -> None:
    for delivery in ("old", "given-up", "pending"):
        store.add_event("github", delivery, "pull_request", b"{}")
    first, second, _ = store.pending_events()
    with store.transaction() as conn:
        store.finish_event(conn, first.id)
    store.fail_event(second.id, "bad", give_up=True)
    assert store.prune_events(datetime.now(UTC) - timedelta(days=1)) == 0
    assert store.prune_events(datetime.now(UTC) + timedelta(seconds=5)) == 2
    assert [e.delivery for e in store.pending_events()] == ["pending"]
    assert store.count_events() == 1
    assert store.add_event("github", "old", "pull_request", b"{}")  # its delivery id was forgotten


# -- column limits: the same on every backend ---------------------------------------------


def test_a_delivery_id_over_the_limit_is_refused_the_same_everywhere(store: Store) -> None:
    assert store.add_event("github", "d" * MAX_DELIVERY_ID_CHARS, "pull_request", b"{}")
    for bad in ("d" * (MAX_DELIVERY_ID_CHARS + 1), "d" * 10_000, "nul\x00", "surrogate\ud800"):
        with pytest.raises(StoreLimitError):
            store.add_event("github", bad, "pull_request", b"{}")
    assert [e.delivery for e in store.pending_events()] == ["d" * MAX_DELIVERY_ID_CHARS]  # nothing else


@pytest.mark.parametrize("number", [INT32_MAX + 1, INT32_MIN - 1, 2**40])
def test_integers_beyond_32_bits_are_refused_the_same_everywhere(store: Store, number: int) -> None:
    with store.transaction() as conn:
        store.put_preview(conn, preview(INT32_MAX, namespace="pr-max"))
    with pytest.raises(StoreLimitError), store.transaction() as conn:
        store.put_preview(conn, preview(number))
    with pytest.raises(StoreLimitError):
        store.get_preview("acme/shop", number)  # a comparison binds the same type
    assert [p.number for p in store.list_previews()] == [INT32_MAX]


def test_every_bounded_column_refuses_one_character_more(store: Store) -> None:
    """Walks every table on the store's metadata: each bounded string column takes exactly its
    limit, and one more character is refused before the database sees it (SQLite would store
    it, PostgreSQL would fail with a DataError)."""
    checked = 0
    for table in metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, BoundedString):
                continue
            limit = column.type.length
            with store.transaction() as conn:
                conn.execute(select(literal("x" * limit, column.type)))  # binds through the type
            with pytest.raises(StoreLimitError), store.transaction() as conn:
                conn.execute(select(literal("x" * (limit + 1), column.type)))
            checked += 1
    assert checked >= 20
    assert isinstance(events.c.delivery.type, BoundedString) and isinstance(previews.c.repo.type, BoundedString)
    assert (events.c.delivery.type.length, previews.c.repo.type.length) == (MAX_DELIVERY_ID_CHARS, MAX_REPO_NAME_CHARS)


def test_text_columns_refuse_nul_and_lone_surrogates_everywhere(store: Store) -> None:
    with pytest.raises(StoreLimitError), store.transaction() as conn:
        store.put_preview(conn, preview(reason="bad\x00reason"))
    with pytest.raises(StoreLimitError), store.transaction() as conn:
        store.put_preview(conn, preview(reason="bad\udc00"))
    assert store.list_previews() == []


# -- previews ----------------------------------------------------------------------------


def test_preview_round_trip_and_replace(store: Store) -> None:
    assert store.get_preview("acme/shop", 42) is None
    first = preview(repo="Acme/Shop")
    with store.transaction() as conn:
        store.put_preview(conn, first)
    got = store.get_preview("ACME/shop", 42)
    assert got == replace(first, repo="acme/shop")
    assert got is not None and got.extra == {"comment": BIG_ID} and got.pr == first.pr
    changed = replace(got, pr=None, allowed=False, reason="label removed", reason_code="no-label",
                      state=PreviewState.DELETING, host=None, deployed_sha="b" * 40, generation=2)
    with store.transaction() as conn:
        store.put_preview(conn, changed)
        assert store.get_preview("acme/shop", 42, conn) == changed  # read inside the transaction
    assert store.list_previews() == [changed]


def test_list_and_dirty_previews_are_ordered(store: Store) -> None:
    rows = [preview(7, repo="zeta/app"), preview(10), preview(9, synced_generation=1),
            preview(2, repo="acme/api")]
    with store.transaction() as conn:
        for row in rows:
            store.put_preview(conn, row)
    keys = [(p.repo, p.number) for p in store.list_previews()]
    assert keys == [("acme/api", 2), ("acme/shop", 9), ("acme/shop", 10), ("zeta/app", 7)]
    assert [(p.repo, p.number) for p in store.dirty_previews()] == [
        ("acme/api", 2), ("acme/shop", 10), ("zeta/app", 7)]


def test_mark_synced_keeps_changes_made_meanwhile(store: Store) -> None:
    with store.transaction() as conn:
        store.put_preview(conn, preview(1))
        store.put_preview(conn, preview(2))
    synced = [replace(preview(n), synced_generation=1, state=PreviewState.DEPLOYING, deployed_sha="a" * 40,
                      extra={"app": f"pr-{n}"}) for n in (1, 2, 3)]  # 3 was never stored
    with store.transaction() as conn:  # PR 2 changed again while it was being synced
        store.put_preview(conn, preview(2, generation=2, reason="new push"))
    store.mark_synced(synced)
    one, two = store.list_previews()
    assert (one.synced_generation, one.state, one.dirty) == (1, PreviewState.DEPLOYING, False)
    assert one.extra == {"comment": BIG_ID, "app": "pr-1"} and one.deployed_sha == "a" * 40
    assert (two.synced_generation, two.state, two.dirty, two.reason) == (1, PreviewState.PENDING, True, "new push")
    assert store.get_preview("acme/shop", 3) is None
    assert [p.number for p in store.dirty_previews()] == [2]


def test_preview_by_namespace_reads_inside_the_transaction(store: Store) -> None:
    with store.transaction() as conn:
        store.put_preview(conn, preview(1))
        store.put_preview(conn, preview(2, repo="acme/api", namespace="api-pr-2"))
        found = store.preview_by_namespace(conn, "api-pr-2")  # not yet committed: same connection
        assert found is not None and (found.repo, found.number) == ("acme/api", 2)
        assert store.preview_by_namespace(conn, "shop-pr-9") is None


def test_pending_tag_cleanups_are_only_the_pending_ones(store: Store) -> None:
    gone = {"state": PreviewState.TORN_DOWN}
    with store.transaction() as conn:
        store.put_preview(conn, preview(1, **gone, extra={"tag_cleanup": {"pending": True, "attempts": 0}}))
        store.put_preview(conn, preview(2, **gone, extra={"tag_cleanup": {"pending": False, "deleted": []}}))
        # "pending": true elsewhere in extra is not a cleanup request
        store.put_preview(conn, preview(3, **gone, extra={"tag_cleanup": {"pending": False},
                                                          "z": {"pending": True}}))
        store.put_preview(conn, preview(4, extra={"tag_cleanup": {"attempts": 1, "next_at": 9.5,
                                                                  "pending": True}}))
        store.put_preview(conn, preview(5, **gone))
    assert [p.number for p in store.pending_tag_cleanups()] == [1, 4]


# -- GitHub state ------------------------------------------------------------------------


def test_feedback_outbox(store: Store) -> None:
    state = GithubState(store)
    state.mark_pending("Acme/Shop", 42)
    (row,) = state.due(now=0.0)
    assert (row.repo, row.number, row.version, row.attempts, row.published) == ("acme/shop", 42, 1, 0, {})
    state.save_published(row, {"comment": BIG_ID}, done=False, next_attempt=100.0, error="rate\x00limited")
    assert state.due(now=50.0) == []  # backing off
    (retry,) = state.due(now=100.0)
    assert (retry.attempts, retry.published) == (1, {"comment": BIG_ID})
    state.mark_pending("acme/shop", 42)  # changed again while publishing
    state.save_published(retry, {"comment": BIG_ID, "state": "ready"}, done=True)
    (again,) = state.due(now=0.0)
    assert (again.version, again.attempts) == (2, 0) and state.pending_count() == 1
    state.save_published(again, {"comment": BIG_ID, "state": "ready"}, done=True)
    assert state.due(now=1e12) == [] and state.pending_count() == 0
    assert state.published("ACME/shop", 42) == {"comment": BIG_ID, "state": "ready"}
    assert state.published("acme/shop", 1) == {}


def test_feedback_due_order_and_limit(store: Store) -> None:
    state = GithubState(store)
    for number in (3, 1, 2):
        state.mark_pending("acme/shop", number)
    assert [r.number for r in state.due(now=0.0)] == [1, 2, 3]
    assert [r.number for r in state.due(now=0.0, limit=2)] == [1, 2]
    first = state.due(now=0.0)[0]
    state.save_published(first, {}, done=False, next_attempt=10.0)
    assert [r.number for r in state.due(now=20.0)] == [2, 3, 1]
    assert state.due(now=20.0)[0] == FeedbackRow("acme/shop", 2, 0, 1, {})


def test_chatops_commands(store: Store) -> None:
    state = GithubState(store)
    with store.transaction() as conn:
        state.add_command(conn, "acme/shop", 42, BIG_ID, "alice", "redeploy")
        state.add_command(conn, "acme/shop", 43, BIG_ID + 1, "bob", "stop")
    first, second = state.pending_commands()
    assert (first.comment_id, first.login, first.command, first.attempts) == (BIG_ID, "alice", "redeploy", 0)
    state.fail_command(first, give_up=False)
    assert [c.attempts for c in state.pending_commands()] == [1, 0]
    with store.transaction() as conn:
        state.finish_command(conn, second.id)
    (left,) = state.pending_commands()
    state.fail_command(left, give_up=True)
    assert state.pending_commands() == []


def test_bundle_verdicts(store: Store) -> None:
    state = GithubState(store)
    assert state.bundle_verdict("acme/shop", "a" * 40) is None
    state.save_verdict("Acme/Shop", "a" * 40, False, ["no-namespace: web.yaml"])
    assert state.bundle_verdict("acme/shop", "a" * 40) == (False, ["no-namespace: web.yaml"])
    state.save_verdict("acme/shop", "a" * 40, True, [])  # checked again
    assert state.bundle_verdict("acme/shop", "a" * 40) == (True, [])
    assert state.bundle_verdict("acme/shop", "b" * 40) is None
    state.forget_verdict("ACME/shop", "a" * 40)
    assert state.bundle_verdict("acme/shop", "a" * 40) is None


def test_github_tables_are_created_once(open_store: Callable[[], Store]) -> None:
    store = open_store()
    GithubState(store).mark_pending("acme/shop", 1)
    store.close()
    again = open_store()
    assert [r.number for r in GithubState(again).due(now=0.0)] == [1]


# -- release state -----------------------------------------------------------------------


def test_release_queue(store: Store) -> None:
    releases = ReleaseStore(store)
    with store.transaction() as conn:
        releases.enqueue(conn, "ghcr.io", "acme/shop", "1.2.3", SHA512)
        releases.enqueue(conn, "ghcr.io", "acme/api", None, "sha256:" + "1" * 64)
    first, second = releases.queued()
    assert (first.repository, first.tag, first.digest, first.attempts) == ("acme/shop", "1.2.3", SHA512, 0)
    assert [p.id for p in releases.queued(limit=1)] == [first.id]
    assert not releases.failed(first, "registry down\x00")
    (retry, _) = releases.queued()
    assert retry.attempts == 1
    with store.transaction() as conn:
        (error,) = conn.execute(select(release_queue.c.last_error).where(release_queue.c.id == first.id)).scalars()
    assert error == "registry down\ufffd"
    assert releases.failed(replace(retry, attempts=MAX_PUSH_ATTEMPTS - 1), "still down")  # dropped
    releases.done(second.id)
    assert releases.queued() == []


def test_release_pending_and_history(store: Store) -> None:
    releases = ReleaseStore(store)
    prod, staging = "envs/prod/app.yaml", "envs/staging/app.yaml"
    assert releases.add_pending(prod, "ghcr.io/acme/shop", "1.2.3", SHA512)
    assert not releases.add_pending(prod, "ghcr.io/acme/shop", "1.2.3", SHA512)
    assert releases.add_pending(prod, "ghcr.io/acme/shop", "1.2.4", "sha256:" + "2" * 64)
    assert releases.add_pending(staging, "ghcr.io/acme/shop", "1.2.3", SHA512)
    listed = [(p.env_path, p.digest) for p in releases.pending()]
    assert [env for env, _ in listed] == [prod, prod, staging]
    assert sorted(listed) == [(prod, "sha256:" + "2" * 64), (prod, SHA512), (staging, SHA512)]
    assert [p.tag for p in releases.pending(staging)] == ["1.2.3"]
    assert releases.released(prod) == set()
    releases.record_release(prod, "1.2.3", SHA512)
    releases.record_release(prod, "v1.2.3", SHA512)  # again: one history row, tag updated
    assert releases.released(prod) == {SHA512}
    assert [p.digest for p in releases.pending(prod)] == ["sha256:" + "2" * 64]
    assert [p.digest for p in releases.pending(staging)] == [SHA512]


def test_release_refusals_and_tag_memory(store: Store) -> None:
    releases = ReleaseStore(store)
    assert releases.refusals() == {}
    releases.refuse("ghcr.io/acme/shop", ["envs/b.yaml", "envs/a.yaml"], "1.0", None)
    releases.refuse("ghcr.io/acme/shop", ["envs/a.yaml", "envs/c.yaml"], "1.1", SHA512)
    refusal = releases.refusals()["ghcr.io/acme/shop"]
    assert (refusal.claims, refusal.refused, refusal.last_tag, refusal.last_digest) == (
        ["envs/a.yaml", "envs/c.yaml"], 2, "1.1", SHA512)
    assert releases.seen_tags("ghcr.io/acme/shop") == {}
    releases.see_tag("ghcr.io/acme/shop", "latest", "sha256:" + "1" * 64)
    releases.see_tag("ghcr.io/acme/shop", "latest", SHA512)
    releases.see_tag("ghcr.io/acme/shop", "1.0", "sha256:" + "1" * 64)
    releases.see_tag("ghcr.io/acme/api", "latest", "sha256:" + "3" * 64)
    assert releases.seen_tags("ghcr.io/acme/shop") == {"latest": SHA512, "1.0": "sha256:" + "1" * 64}
