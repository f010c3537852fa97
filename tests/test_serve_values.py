"""A real ``previewd serve`` refuses values it must not trust (PR numbers, timestamps, sizes,
lone surrogates, delivery ids) with a clean 400 or a clean permanent rejection by the worker,
and its API and dashboard render whatever an older version stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from previewd.adapters.store.sql import Store, events
from previewd.core.models import PreviewState
from tests.support import Serve, base_config, make_pr, make_preview, pr_payload, remote_log, wait_for, write_config

SHA1 = "1" * 40
OPENED = "2026-01-01T00:00:01Z"


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state/previewd.db"


def start(tmp_path: Path, bare: Path, port: int) -> Serve:
    return Serve(write_config(tmp_path, base_config(tmp_path, bare, port)), tmp_path, port).start()


def previews(server: Serve) -> list[dict[str, object]]:
    answer: list[dict[str, object]] = server.get("/api/previews").json()["previews"]
    return answer


def settled(server: Serve) -> bool:
    return all(p["synced"] for p in previews(server))


@pytest.fixture
def server(tmp_path: Path, bare: Path, port: int):  # type: ignore[no-untyped-def]
    serve = start(tmp_path, bare, port)
    yield serve
    serve.stop()


@pytest.mark.parametrize("number", [0, -1, 2**31, 2**63])
def test_a_pr_number_outside_1_to_2_31_minus_1_is_a_400(server: Serve, bare: Path, number: int) -> None:
    answer = server.post("pull_request", pr_payload(number=number, sha=SHA1, updated_at=OPENED))
    assert answer.status_code == 400 and "number" in answer.json()["detail"]
    assert server.post("pull_request", pr_payload(number=1, sha=SHA1, updated_at=OPENED)).status_code == 202
    wait_for(lambda: remote_log(bare) and settled(server))
    (only,) = previews(server)  # -1 can no longer share PR 1's names
    assert (only["number"], only["namespace"]) == (1, "pr-1-shop")


def test_a_4_mb_created_at_is_a_400_and_never_an_annotation(server: Serve, bare: Path) -> None:
    payload = pr_payload(sha=SHA1, updated_at=OPENED, created_at="2026-01-01T00:00:00Z" + "9" * 4_000_000)
    answer = server.post("pull_request", payload)
    assert answer.status_code == 400 and "created_at" in answer.json()["detail"]
    assert len(answer.content) < 1000  # the value is not echoed
    assert previews(server) == [] and remote_log(bare) == []


@pytest.mark.parametrize("bogus", ["9999-99-99", "9999-12-31T00:00:00Z", "yesterday"])
def test_a_bogus_updated_at_is_refused_so_a_real_close_still_wins(server: Serve, bare: Path, bogus: str) -> None:
    assert server.post("pull_request", pr_payload(sha=SHA1, updated_at=bogus)).status_code == 400
    assert server.post("pull_request", pr_payload(sha=SHA1, updated_at=OPENED)).status_code == 202
    wait_for(lambda: len(remote_log(bare)) == 1 and settled(server))
    closed = pr_payload("pull_request.closed.1.json", sha=SHA1, updated_at="2026-01-01T00:00:05Z")
    assert server.post("pull_request", closed).status_code == 202
    wait_for(lambda: len(remote_log(bare)) == 2 and settled(server))
    assert previews(server)[0]["state"] == "torn-down"


def test_a_record_frozen_by_an_older_version_is_released_by_a_real_close(
        tmp_path: Path, bare: Path, port: int) -> None:
    store = Store(db_url(tmp_path))  # what an older previewd stored from "9999-99-99"
    with store.transaction() as conn:
        store.put_preview(conn, make_preview(pr=make_pr(updated_at="9999-99-99"), state=PreviewState.DEPLOYING,
                                             namespace="pr-42-shop"))
    store.close()
    server = start(tmp_path, bare, port)
    try:
        closed = pr_payload("pull_request.closed.1.json", updated_at="2026-01-01T00:00:05Z")
        assert server.post("pull_request", closed).status_code == 202
        wait_for(lambda: previews(server)[0]["state"] == "torn-down")
    finally:
        server.stop()


def test_a_lone_surrogate_in_head_sha_is_a_400(server: Serve) -> None:
    body = json.dumps(pr_payload(sha="\ud800", updated_at=OPENED)).encode()  # "\\ud800" on the wire
    assert b"\\ud800" in body
    answer = server.post("pull_request", body)
    assert answer.status_code == 400 and "head.sha" in answer.json()["detail"]
    assert previews(server) == []


def test_api_and_dashboard_render_whatever_is_stored(tmp_path: Path, bare: Path, port: int) -> None:
    store = Store(db_url(tmp_path))  # stored by a version that did not check head.sha (JSON escapes it)
    with store.transaction() as conn:
        store.put_preview(conn, make_preview(pr=make_pr(head_sha="\ud800" + "a" * 39), reason="why not",
                                             extra={"render_error": "\ud83d"}, state=PreviewState.FAILED))
    store.close()
    server = start(tmp_path, bare, port)
    try:
        answer = server.get("/api/previews")
        assert answer.status_code == 200
        (shown,) = answer.json()["previews"]
        assert shown["head_sha"] == "\ufffd" + "a" * 39 and shown["error"] == "\ufffd"
        page = server.get("/")
        assert page.status_code == 200 and "<code>\ufffdaaaaaa</code>" in page.text and "acme/shop#42" in page.text
    finally:
        server.stop()


@pytest.mark.parametrize("delivery", ["d" * 10_000, "a b", "../x", "x;y"])
def test_a_bad_delivery_id_is_a_400(server: Serve, delivery: str) -> None:
    answer = server.post("pull_request", pr_payload(sha=SHA1, updated_at=OPENED),
                         headers={"X-GitHub-Delivery": delivery})
    assert answer.status_code == 400 and "X-GitHub-Delivery" in answer.json()["detail"]
    assert previews(server) == []


def test_the_worker_rejects_a_stored_bad_event_for_good(tmp_path: Path, bare: Path, port: int) -> None:
    """An event stored before intake checked it (or by any other path) is refused by the worker
    as permanently bad: given up at once, nothing recorded, the next event still processed."""
    store = Store(db_url(tmp_path))
    for delivery, payload in (("bad-number", pr_payload(number=-1, sha=SHA1, updated_at=OPENED)),
                              ("bad-date", pr_payload(number=5, sha=SHA1, updated_at="9999-99-99")),
                              ("good", pr_payload(number=7, sha=SHA1, updated_at=OPENED))):
        store.add_event("github", delivery, "pull_request", json.dumps(payload).encode())
    server = start(tmp_path, bare, port)
    try:
        wait_for(lambda: len(remote_log(bare)) == 1 and settled(server))
        assert [p["number"] for p in previews(server)] == [7]
        with store.transaction() as conn:
            rows = {r.delivery: (r.done, r.attempts) for r in
                    conn.execute(select(events.c.delivery, events.c.done, events.c.attempts))}
        assert rows == {"bad-number": (2, 1), "bad-date": (2, 1), "good": (1, 0)}
    finally:
        server.stop()
        store.close()
