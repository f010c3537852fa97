"""GitHub-side state: what feedback was published per PR, pending ChatOps commands, bundle checks.

Tables share the store's ``metadata``. ``Store()`` creates every table registered on it at
that moment, so these already exist when this module was imported before the store was opened
(the usual wiring); ``GithubState()`` creates them otherwise (existing tables are left alone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from previewd.adapters.store.columns import BoundedString, BoundedText, Int32, Int64
from previewd.adapters.store.sql import Store, error_text, metadata, upsert
from previewd.core.limits import MAX_LOGIN_CHARS, MAX_REPO_NAME_CHARS

feedback = Table(
    "github_feedback",
    metadata,
    Column("repo", BoundedString(MAX_REPO_NAME_CHARS), primary_key=True),
    Column("number", Int32, primary_key=True),
    Column("pending", Int32, nullable=False, default=1),
    Column("version", Int32, nullable=False, default=0),  # bumped by every mark_pending
    Column("attempts", Int32, nullable=False, default=0),
    Column("next_attempt", Float, nullable=False, default=0.0),
    Column("last_error", BoundedText, nullable=True),
    Column("published", BoundedText, nullable=False, default="{}"),  # comment id, deployment id, states
)

commands = Table(
    "github_commands",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", BoundedString(MAX_REPO_NAME_CHARS), nullable=False),
    Column("number", Int32, nullable=False),
    Column("comment_id", Int64, nullable=False),  # GitHub ids are past 2**31
    Column("login", BoundedString(MAX_LOGIN_CHARS), nullable=False),
    Column("command", BoundedString(20), nullable=False),
    Column("done", Int32, nullable=False, default=0),
    Column("attempts", Int32, nullable=False, default=0),
)

bundle_checks = Table(
    "github_bundle_checks",
    metadata,
    Column("repo", BoundedString(MAX_REPO_NAME_CHARS), primary_key=True),
    Column("sha", BoundedString(64), primary_key=True),
    # 1 passed, 0 failed; while no verdict: -n after n starts (see _starts_column, _starts_of)
    Column("passed", Int32, nullable=False),
    Column("findings", BoundedText, nullable=False),
)


@dataclass(frozen=True)
class FeedbackRow:
    repo: str
    number: int
    attempts: int
    version: int
    published: dict[str, Any]


@dataclass(frozen=True)
class CommandRow:
    id: int
    repo: str
    number: int
    comment_id: int
    login: str
    command: str
    attempts: int


class GithubState:
    """Thin access layer over the GitHub tables of a ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        metadata.create_all(store.engine, tables=[feedback, commands, bundle_checks])

    # -- feedback outbox ----------------------------------------------------------------

    def mark_pending(self, repo: str, number: int) -> None:
        with self.store.transaction() as conn:
            upsert(conn, feedback, {"repo": repo.lower(), "number": number},
                   {"pending": 1, "attempts": 0, "next_attempt": 0.0, "version": feedback.c.version + 1},
                   insert_values={"pending": 1, "attempts": 0, "next_attempt": 0.0, "version": 1,
                                  "published": "{}"})

    def due(self, now: float, limit: int = 200) -> list[FeedbackRow]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(feedback).where(feedback.c.pending == 1, feedback.c.next_attempt <= now)
                                .order_by(feedback.c.next_attempt, feedback.c.repo, feedback.c.number)
                                .limit(limit)).all()
        return [FeedbackRow(r.repo, r.number, r.attempts, r.version, json.loads(r.published)) for r in rows]

    def published(self, repo: str, number: int) -> dict[str, Any]:
        with self.store.transaction() as conn:
            row = conn.execute(select(feedback.c.published).where(
                feedback.c.repo == repo.lower(), feedback.c.number == number)).first()
        return json.loads(row.published) if row else {}

    def save_published(self, row: FeedbackRow, published: dict[str, Any], *, done: bool,
                       next_attempt: float = 0.0, error: str | None = None) -> None:
        """Record progress; ``done`` clears pending unless it was marked pending again meanwhile."""
        key = (feedback.c.repo == row.repo) & (feedback.c.number == row.number)
        with self.store.transaction() as conn:
            conn.execute(update(feedback).where(key).values(
                published=json.dumps(published, sort_keys=True),
                last_error=None if error is None else error_text(error)))
            if done:
                conn.execute(update(feedback).where(key & (feedback.c.version == row.version))
                             .values(pending=0, attempts=0))
            else:
                conn.execute(update(feedback).where(key).values(attempts=row.attempts + 1,
                                                                next_attempt=next_attempt))

    def pending_count(self) -> int:
        with self.store.transaction() as conn:
            return int(conn.execute(select(func.count()).select_from(feedback)
                                    .where(feedback.c.pending == 1)).scalar_one())

    # -- ChatOps commands --------------------------------------------------------------

    def add_command(self, conn: Connection, repo: str, number: int, comment_id: int, login: str,
                    command: str) -> None:
        conn.execute(insert(commands).values(repo=repo, number=number, comment_id=comment_id, login=login,
                                             command=command, done=0, attempts=0))

    def pending_commands(self) -> list[CommandRow]:
        with self.store.transaction() as conn:
            rows = conn.execute(select(commands).where(commands.c.done == 0).order_by(commands.c.id)).all()
        return [CommandRow(r.id, r.repo, r.number, r.comment_id, r.login, r.command, r.attempts) for r in rows]

    def finish_command(self, conn: Connection, command_id: int) -> None:
        conn.execute(update(commands).where(commands.c.id == command_id).values(done=1))

    def fail_command(self, row: CommandRow, give_up: bool) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(commands).where(commands.c.id == row.id)
                         .values(attempts=row.attempts + 1, done=2 if give_up else 0))

    # -- bundle checks -----------------------------------------------------------------

    def bundle_verdict(self, repo: str, sha: str) -> tuple[bool, list[str]] | None:
        """(passed, findings), or None while no check of ``sha`` has finished."""
        with self.store.transaction() as conn:
            row = conn.execute(select(bundle_checks).where(
                bundle_checks.c.repo == repo.lower(), bundle_checks.c.sha == sha)).first()
        return (bool(row.passed), json.loads(row.findings)) if row and not _starts_of(row.passed) else None

    def start_check(self, repo: str, sha: str) -> int:
        """Record that a check of ``sha`` starts (no verdict yet); returns how many starts there
        have been without a verdict, this one included (kept as ``passed = -starts``)."""
        with self.store.transaction() as conn:
            row = conn.execute(select(bundle_checks.c.passed).where(
                bundle_checks.c.repo == repo.lower(), bundle_checks.c.sha == sha)).first()
            starts = (_starts_of(row.passed) if row is not None else 0) + 1
            upsert(conn, bundle_checks, {"repo": repo.lower(), "sha": sha},
                   {"passed": _starts_column(starts), "findings": "[]"})
        return starts

    def save_verdict(self, repo: str, sha: str, passed: bool, findings: list[str]) -> None:
        with self.store.transaction() as conn:
            upsert(conn, bundle_checks, {"repo": repo.lower(), "sha": sha},
                   {"passed": int(passed), "findings": json.dumps(findings)})

    def forget_verdict(self, repo: str, sha: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(delete(bundle_checks).where(bundle_checks.c.repo == repo.lower(),
                                                     bundle_checks.c.sha == sha))


# The ``passed`` column holds 1 (passed) or 0 (failed) once a check has a verdict, and the number
# of starts without one, negated, before that (one column: a verdict replaces the count).
def _starts_column(starts: int) -> int:
    """The ``passed`` value recording ``starts`` starts (at least 1) and no verdict yet."""
    return -starts


def _starts_of(passed: int) -> int:
    """How many starts without a verdict a ``passed`` value records (0: it is a verdict)."""
    return -passed if passed < 0 else 0
