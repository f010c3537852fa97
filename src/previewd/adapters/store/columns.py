"""Column types that enforce the store's limits the same way on every backend.

PostgreSQL enforces ``varchar(n)`` and 32-bit ``integer`` and refuses NUL in text; SQLite
enforces none of these. Every bounded column uses one of these types instead, so a value over
a limit is refused *before* it reaches either database, with the same ``StoreLimitError`` (a
``PermanentError``: retrying cannot help). The limits themselves live in ``core.limits`` and as
the lengths given here, each written once, in the table definitions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from previewd.core.limits import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, MAX_TEXT_CHARS
from previewd.core.values import text_problem
from previewd.errors import PermanentError


class StoreLimitError(PermanentError):
    """A value does not fit the column it is written to (or compared with)."""


def _check_text(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        problem = text_problem(value, limit)
        if problem:
            raise StoreLimitError(f"store: a value {problem} (column limit {limit})")
    return value


def _check_int(value: Any, low: int, high: int) -> Any:
    if isinstance(value, int) and not low <= value <= high:
        raise StoreLimitError(f"store: integer {value} out of the column range {low}..{high}")
    return value


class BoundedString(TypeDecorator[str]):
    """``varchar(length)``: at most ``length`` characters, no NUL, valid Unicode."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        # Named as the argument: SQLAlchemy's statement cache keys a type by its __init__ args.
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _check_text(value, self.length)


class BoundedText(TypeDecorator[str]):
    """``text`` of at most ``MAX_TEXT_CHARS`` characters, no NUL, valid Unicode."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _check_text(value, MAX_TEXT_CHARS)


class Int32(TypeDecorator[int]):
    """A 32-bit signed integer, as PostgreSQL's ``integer`` holds (SQLite would take 64 bits)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _check_int(value, INT32_MIN, INT32_MAX)


class Int64(TypeDecorator[int]):
    """A 64-bit signed integer (``bigint``; GitHub comment ids are past 2**31)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _check_int(value, INT64_MIN, INT64_MAX)
