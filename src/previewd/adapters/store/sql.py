"""The durable store on SQLAlchemy Core: received events and preview records.

SQLite (WAL) by default; the same code runs on PostgreSQL (psycopg 3), and the contract tests run
over both. An event is committed before the webhook is answered 202, so it survives a crash of
previewd. Every transaction goes through ``Store.transaction()``, which serialises them in this
process: that is what makes ``upsert`` (update, then insert) safe, and why one previewd replica
per database is supported, not several.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from previewd.adapters.store.columns import BoundedString, BoundedText, Int32, StoreLimitError
from previewd.core.limits import MAX_DELIVERY_ID_CHARS, MAX_REPO_NAME_CHARS
from previewd.core.models import TAG_CLEANUP_KEY, Preview, PreviewState, PullRequest
from previewd.errors import TransientError

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", BoundedString(32), nullable=False),  # github, registry, argocd ...
    Column("delivery", BoundedString(MAX_DELIVERY_ID_CHARS), nullable=False),
    Column("kind", BoundedString(100), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", BoundedString(40), nullable=False),
    Column("done", Int32, nullable=False, default=0),
    Column("attempts", Int32, nullable=False, default=0),
    Column("last_error", BoundedText, nullable=True),
    UniqueConstraint("source", "delivery", name="uq_events_delivery"),
)

previews = Table(
    "previews",
    metadata,
    Column("repo", BoundedString(MAX_REPO_NAME_CHARS), primary_key=True),
    Column("number", Int32, primary_key=True),
    Column("pr", BoundedText, nullable=True),
    Column("allowed", Int32, nullable=False),
    Column("reason", BoundedText, nullable=False),
    Column("reason_code", BoundedString(40), nullable=False),
    Column("state", BoundedString(40), nullable=False),
    Column("namespace", BoundedString(63), nullable=False),
    Column("host", BoundedString(253), nullable=True),
    Column("deployed_sha", BoundedString(64), nullable=True),
    Column("generation", Int32, nullable=False),
    Column("synced_generation", Int32, nullable=False),
    Column("extra", BoundedText, nullable=False),
    Column("updated_at", BoundedString(40), nullable=False),
)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    source: str
    delivery: str
    kind: str
    body: bytes
    attempts: int


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_text(error: str) -> str:
    """An error message as stored: bounded, and without NUL (PostgreSQL text cannot hold it)."""
    return error.replace("\x00", "\ufffd")[:2000]


def upsert(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any],
           insert_values: dict[str, Any] | None = None) -> None:
    """Update the row whose primary key is ``key``, or insert it: the store's one upsert.

    ``values`` may hold column expressions (``table.c.n + 1``); then pass ``insert_values`` for
    a new row. Portable Core on every dialect: an UPDATE's rowcount is the number of rows it
    matched (SQLite, PostgreSQL), and no other writer can slip in between because transactions
    are serialised by ``Store.transaction()`` (one replica).
    """
    where = and_(*(table.c[name] == value for name, value in key.items()))
    if conn.execute(update(table).where(where).values(**values)).rowcount == 0:
        conn.execute(insert(table).values(**key, **(values if insert_values is None else insert_values)))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """All persistent state. Thread-safe; callers group writes with ``transaction()``."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        sqlite = url.startswith("sqlite")
        # A server can restart under a long-lived process: check pooled connections before use.
        self.engine: Engine = create_engine(url, pool_pre_ping=not sqlite)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
        except OperationalError as err:  # the URL is shown without its password
            raise TransientError(f"store: cannot open {self.engine.url!r}: {err.orig}") from err
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; a value over a column limit raises ``StoreLimitError`` (rolled back)."""
        try:
            with self._lock, self.engine.begin() as conn:
                yield conn
        except StatementError as err:
            if isinstance(err.orig, StoreLimitError):  # SQLAlchemy wraps errors of bind processing
                raise err.orig from None
            raise

    # -- events ----------------------------------------------------------------------

    def add_event(self, source: str, delivery: str, kind: str, body: bytes) -> bool:
        """Record an event durably; False if this delivery id was seen before."""
        try:
            with self.transaction() as conn:
                conn.execute(
                    insert(events).values(
                        source=source, delivery=delivery, kind=kind, body=body,
                        received_at=_now(), done=0, attempts=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def pending_events(self, limit: int = 1000) -> list[StoredEvent]:
        with self.transaction() as conn:
            rows = conn.execute(
                select(events.c.id, events.c.source, events.c.delivery, events.c.kind,
                       events.c.body, events.c.attempts)
                .where(events.c.done == 0)
                .order_by(events.c.id)
                .limit(limit)
            ).all()
        return [StoredEvent(r.id, r.source, r.delivery, r.kind, r.body, r.attempts) for r in rows]

    def finish_event(self, conn: Connection, event_id: int) -> None:
        conn.execute(update(events).where(events.c.id == event_id).values(done=1))

    def fail_event(self, event_id: int, error: str, give_up: bool) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(events)
                .where(events.c.id == event_id)
                .values(attempts=events.c.attempts + 1, last_error=error_text(error), done=2 if give_up else 0)
            )

    def count_events(self) -> int:
        with self.transaction() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    def prune_events(self, older_than: datetime) -> int:
        """Forget handled events received before ``older_than`` (their delivery ids too)."""
        cutoff = older_than.strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.transaction() as conn:
            result = conn.execute(
                delete(events).where(events.c.done != 0, events.c.received_at < cutoff)
            )
        return int(result.rowcount)

    # -- previews --------------------------------------------------------------------

    @staticmethod
    def _to_preview(row: Any) -> Preview:
        return Preview(
            repo=row.repo,
            number=row.number,
            pr=PullRequest.from_dict(json.loads(row.pr)) if row.pr else None,
            allowed=bool(row.allowed),
            reason=row.reason,
            reason_code=row.reason_code,
            state=PreviewState(row.state),
            namespace=row.namespace,
            host=row.host,
            deployed_sha=row.deployed_sha,
            generation=row.generation,
            synced_generation=row.synced_generation,
            extra=json.loads(row.extra),
        )

    def get_preview(self, repo: str, number: int, conn: Connection | None = None) -> Preview | None:
        query = select(previews).where(previews.c.repo == repo.lower(), previews.c.number == number)
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self.transaction() as own:
                row = own.execute(query).first()
        return self._to_preview(row) if row else None

    def put_preview(self, conn: Connection, preview: Preview) -> None:
        values = {
            "pr": json.dumps(preview.pr.to_dict(), sort_keys=True) if preview.pr else None,
            "allowed": int(preview.allowed),
            "reason": preview.reason,
            "reason_code": preview.reason_code,
            "state": preview.state.value,
            "namespace": preview.namespace,
            "host": preview.host,
            "deployed_sha": preview.deployed_sha,
            "generation": preview.generation,
            "synced_generation": preview.synced_generation,
            "extra": json.dumps(preview.extra, sort_keys=True),
            "updated_at": _now(),
        }
        upsert(conn, previews, {"repo": preview.repo.lower(), "number": preview.number}, values)

    def list_previews(self) -> list[Preview]:
        with self.transaction() as conn:
            rows = conn.execute(select(previews).order_by(previews.c.repo, previews.c.number)).all()
        return [self._to_preview(r) for r in rows]

    def preview_by_namespace(self, conn: Connection, namespace: str) -> Preview | None:
        """The preview deployed to ``namespace`` (namespaces are unique per configuration)."""
        row = conn.execute(
            select(previews).where(previews.c.namespace == namespace)
            .order_by(previews.c.repo, previews.c.number).limit(1)
        ).first()
        return self._to_preview(row) if row else None

    def pending_tag_cleanups(self) -> list[Preview]:
        """Previews whose ``extra[TAG_CLEANUP_KEY]`` asks for a cleanup still to be done.

        ``extra`` is JSON text written by ``put_preview`` (``json.dumps``, default separators),
        so a portable text match narrows the rows; the parsed record has the final say.
        """
        with self.transaction() as conn:
            rows = conn.execute(
                select(previews)
                .where(previews.c.extra.contains(f'"{TAG_CLEANUP_KEY}": {{', autoescape=True),
                       previews.c.extra.contains('"pending": true', autoescape=True))
                .order_by(previews.c.repo, previews.c.number)
            ).all()
        found = [self._to_preview(r) for r in rows]
        return [p for p in found if isinstance(job := p.extra.get(TAG_CLEANUP_KEY), dict) and job.get("pending")]

    def dirty_previews(self) -> list[Preview]:
        with self.transaction() as conn:
            rows = conn.execute(
                select(previews)
                .where(previews.c.generation != previews.c.synced_generation)
                .order_by(previews.c.repo, previews.c.number)
            ).all()
        return [self._to_preview(r) for r in rows]

    def mark_synced(self, synced: list[Preview]) -> None:
        """Record converged previews unless they changed again meanwhile (generation moved)."""
        with self.transaction() as conn:
            for p in synced:
                current = self.get_preview(p.repo, p.number, conn)
                if current is None:
                    continue
                merged = replace(
                    current,
                    synced_generation=p.synced_generation,
                    state=p.state if current.generation == p.synced_generation else current.state,
                    deployed_sha=p.deployed_sha,
                    extra={**current.extra, **p.extra},
                )
                self.put_preview(conn, merged)

    def close(self) -> None:
        self.engine.dispose()
