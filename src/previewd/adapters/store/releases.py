"""Release controller state on the shared store: queued pushes, pending releases, release
history, refused (conflicting) pushes and the last digest seen per tag (for the tag poll).

Same ``metadata`` and engine as ``sql.Store``, which creates every table registered on it when
it is opened, so these already exist when this module was imported first (the usual wiring);
``ReleaseStore()`` creates them otherwise (existing tables are left alone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Column, Integer, Table, delete, insert, select, update
from sqlalchemy.engine import Connection

from previewd.adapters.store.columns import BoundedString, BoundedText, Int32
from previewd.adapters.store.sql import Store, _now, error_text, metadata, upsert
from previewd.core.limits import MAX_DIGEST_CHARS, MAX_IMAGE_REPOSITORY_CHARS

release_queue = Table(
    "release_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registry", BoundedString(255), nullable=False),
    Column("repository", BoundedString(MAX_IMAGE_REPOSITORY_CHARS), nullable=False),
    Column("tag", BoundedString(128), nullable=True),
    Column("digest", BoundedString(MAX_DIGEST_CHARS), nullable=True),
    Column("received_at", BoundedString(40), nullable=False),
    Column("attempts", Int32, nullable=False, default=0),
    Column("last_error", BoundedText, nullable=True),
)

release_pending = Table(
    "release_pending",
    metadata,
    Column("env_path", BoundedString(500), primary_key=True),
    Column("digest", BoundedString(MAX_DIGEST_CHARS), primary_key=True),
    Column("repository", BoundedString(300), nullable=False),
    Column("tag", BoundedString(128), nullable=True),
    Column("seen_at", BoundedString(40), nullable=False),
)

release_history = Table(
    "release_history",
    metadata,
    Column("env_path", BoundedString(500), primary_key=True),
    Column("digest", BoundedString(MAX_DIGEST_CHARS), primary_key=True),
    Column("tag", BoundedString(128), nullable=True),
    Column("released_at", BoundedString(40), nullable=False),
)

release_refusals = Table(
    "release_refusals",
    metadata,
    Column("repository", BoundedString(300), primary_key=True),
    Column("claims", BoundedText, nullable=False),  # JSON list of env paths
    Column("refused", Int32, nullable=False),
    Column("last_tag", BoundedString(128), nullable=True),
    Column("last_digest", BoundedString(MAX_DIGEST_CHARS), nullable=True),
    Column("seen_at", BoundedString(40), nullable=False),
)

release_tags = Table(
    "release_tags",
    metadata,
    Column("repository", BoundedString(300), primary_key=True),
    Column("tag", BoundedString(128), primary_key=True),
    Column("digest", BoundedString(MAX_DIGEST_CHARS), nullable=False),
    Column("seen_at", BoundedString(40), nullable=False),
)

MAX_PUSH_ATTEMPTS = 10
now = _now  # the store's one timestamp format (the controller's default clock)
TABLES = (release_queue, release_pending, release_history, release_refusals, release_tags)


@dataclass(frozen=True)
class QueuedPush:
    id: int
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    attempts: int


@dataclass(frozen=True)
class Pending:
    env_path: str
    repository: str
    tag: str | None
    digest: str
    seen_at: str


@dataclass(frozen=True)
class Refusal:
    repository: str
    claims: list[str]
    refused: int
    last_tag: str | None
    last_digest: str | None
    seen_at: str


class ReleaseStore:
    """Thin typed access to the release tables; every method is its own transaction unless a
    connection is passed (the worker enqueues inside the event's transaction)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        metadata.create_all(store.engine, tables=TABLES)

    # -- queue -------------------------------------------------------------------------

    def enqueue(self, conn: Connection, registry: str, repository: str, tag: str | None,
                digest: str | None) -> None:
        conn.execute(insert(release_queue).values(
            registry=registry, repository=repository, tag=tag, digest=digest,
            received_at=now(), attempts=0))

    def queued(self, limit: int = 500) -> list[QueuedPush]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(release_queue).order_by(release_queue.c.id).limit(limit)).all()
        return [QueuedPush(r.id, r.registry, r.repository, r.tag, r.digest, r.attempts) for r in rows]

    def done(self, push_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(delete(release_queue).where(release_queue.c.id == push_id))

    def failed(self, push: QueuedPush, error: str) -> bool:
        """Count a failed attempt; True (and dropped) once it has failed too often."""
        give_up = push.attempts + 1 >= MAX_PUSH_ATTEMPTS
        with self.store.transaction() as conn:
            if give_up:
                conn.execute(delete(release_queue).where(release_queue.c.id == push.id))
            else:
                conn.execute(update(release_queue).where(release_queue.c.id == push.id)
                             .values(attempts=push.attempts + 1, last_error=error_text(error)))
        return give_up

    # -- pending ----------------------------------------------------------------------

    def add_pending(self, env_path: str, repository: str, tag: str | None, digest: str) -> bool:
        """Record a release waiting for promotion; False if it was already pending."""
        with self.store.transaction() as conn:
            key = (release_pending.c.env_path == env_path) & (release_pending.c.digest == digest)
            if conn.execute(select(release_pending.c.digest).where(key)).first():
                return False
            conn.execute(insert(release_pending).values(
                env_path=env_path, digest=digest, repository=repository, tag=tag, seen_at=now()))
        return True

    def pending(self, env_path: str | None = None) -> list[Pending]:
        query = select(release_pending).order_by(release_pending.c.env_path, release_pending.c.seen_at,
                                                release_pending.c.digest)
        if env_path is not None:
            query = query.where(release_pending.c.env_path == env_path)
        with self.store.transaction() as conn:
            rows = conn.execute(query).all()
        return [Pending(r.env_path, r.repository, r.tag, r.digest, r.seen_at) for r in rows]

    # -- history ----------------------------------------------------------------------

    def released(self, env_path: str) -> set[str]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(release_history.c.digest)
                                .where(release_history.c.env_path == env_path)).all()
        return {r.digest for r in rows}

    def record_release(self, env_path: str, tag: str | None, digest: str) -> None:
        """Remember the release and drop it from pending (it is no longer waiting)."""
        with self.store.transaction() as conn:
            upsert(conn, release_history, {"env_path": env_path, "digest": digest},
                   {"tag": tag, "released_at": now()})
            conn.execute(delete(release_pending).where(
                (release_pending.c.env_path == env_path) & (release_pending.c.digest == digest)))

    # -- refusals ---------------------------------------------------------------------

    def refuse(self, repository: str, claims: list[str], tag: str | None, digest: str | None) -> None:
        values = {"claims": json.dumps(sorted(claims)), "last_tag": tag, "last_digest": digest,
                  "seen_at": now()}
        with self.store.transaction() as conn:
            upsert(conn, release_refusals, {"repository": repository},
                   {**values, "refused": release_refusals.c.refused + 1},
                   insert_values={**values, "refused": 1})

    def refusals(self) -> dict[str, Refusal]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(release_refusals)).all()
        return {r.repository: Refusal(r.repository, json.loads(r.claims), r.refused, r.last_tag,
                                      r.last_digest, r.seen_at) for r in rows}

    # -- tag poll memory ----------------------------------------------------------------

    def seen_tags(self, repository: str) -> dict[str, str]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(release_tags.c.tag, release_tags.c.digest)
                                .where(release_tags.c.repository == repository)).all()
        return {r.tag: r.digest for r in rows}

    def see_tag(self, repository: str, tag: str, digest: str) -> None:
        with self.store.transaction() as conn:
            upsert(conn, release_tags, {"repository": repository, "tag": tag},
                   {"digest": digest, "seen_at": now()})
