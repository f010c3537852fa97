"""End to end on PostgreSQL: a real ``previewd serve`` whose store is a ``postgresql://`` URL."""

from __future__ import annotations

from pathlib import Path

from tests.postgres_support import PostgresServer
from tests.support import Serve, base_config, pr_payload, remote_log, wait_for, write_config

SHA1, SHA2 = "1" * 40, "2" * 40


def test_serve_keeps_its_state_in_postgresql(postgres: PostgresServer, tmp_path: Path, bare: Path,
                                              port: int) -> None:
    url = postgres.new_database().replace("postgresql+psycopg://", "postgresql://")  # as users write it
    config = write_config(tmp_path, base_config(tmp_path, bare, port, store={"url": url}))

    serve = Serve(config, tmp_path, port).start()
    try:
        opened = pr_payload(sha=SHA1, updated_at="2026-01-01T00:00:01Z")
        assert serve.post("pull_request", opened, delivery="d-open").status_code == 202
        assert serve.post("pull_request", opened, delivery="d-open").json()["status"] == "duplicate"
        wait_for(lambda: remote_log(bare) and all(p["synced"] for p in serve.get("/api/previews").json()["previews"]))
        assert remote_log(bare) == [f"preview(acme/shop#42): create at {SHA1[:7]}"]
    finally:
        serve.stop()
    assert not (tmp_path / "state").exists()  # nothing went to the default SQLite file

    again = Serve(config, tmp_path, port).start()  # a new process: the state came from PostgreSQL
    try:
        (preview,) = again.get("/api/previews").json()["previews"]
        assert (preview["number"], preview["state"], preview["synced"]) == (42, "deploying", True)
        assert again.post("pull_request", opened, delivery="d-open").json()["status"] == "duplicate"
        sync = pr_payload("pull_request.synchronize.1.json", sha=SHA2, updated_at="2026-01-01T00:00:02Z")
        assert again.post("pull_request", sync).status_code == 202
        wait_for(lambda: len(remote_log(bare)) == 2)
        assert remote_log(bare)[0] == f"preview(acme/shop#42): update to {SHA2[:7]}"
    finally:
        again.stop()


def test_values_over_the_column_limits_are_a_400_not_a_500(postgres: PostgresServer, tmp_path: Path, bare: Path,
                                                           port: int) -> None:
    """A 10 KB delivery id once reached ``varchar(200)`` and PostgreSQL answered 500; a PR
    number of 2**31 does not fit its ``integer``. Both are refused before the store."""
    config = write_config(tmp_path, base_config(tmp_path, bare, port, store={"url": postgres.new_database()}))
    serve = Serve(config, tmp_path, port).start()
    try:
        opened = pr_payload(sha=SHA1, updated_at="2026-01-01T00:00:01Z")
        answer = serve.post("pull_request", opened, delivery="d" * 10_000)
        assert answer.status_code == 400 and "X-GitHub-Delivery" in answer.json()["detail"]
        assert serve.post("pull_request", pr_payload(number=2**31, sha=SHA1)).status_code == 400
        assert serve.post("pull_request", opened, delivery="d" * 200).status_code == 202  # the limit itself
        wait_for(lambda: remote_log(bare) and all(p["synced"] for p in serve.get("/api/previews").json()["previews"]))
        assert [p["number"] for p in serve.get("/api/previews").json()["previews"]] == [42]
    finally:
        serve.stop()
