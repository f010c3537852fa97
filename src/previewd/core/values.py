"""Validators for values from outside (timestamps, texts, ids) and a safe form for output."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from previewd.core.limits import MAX_CLOCK_SKEW, MAX_DELIVERY_ID_CHARS, MAX_TIMESTAMP_CHARS

# RFC 3339 (the strict profile of ISO 8601 GitHub uses): a full date, a time, an explicit offset.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
DELIVERY_ID_CHARS = "A-Za-z0-9._:-"  # a regex character-class body: what a delivery id may hold
_DELIVERY_ID = re.compile(rf"[A-Za-z0-9][{DELIVERY_ID_CHARS}]*", re.ASCII)
_SURROGATES = re.compile("[\ud800-\udfff]")


def parse_timestamp(value: str) -> datetime:
    """The aware UTC datetime of an RFC 3339 date-time; ValueError for anything else."""
    if len(value) > MAX_TIMESTAMP_CHARS:
        raise ValueError(f"a timestamp has at most {MAX_TIMESTAMP_CHARS} characters")
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError("not an ISO 8601 date-time with an offset (such as 2026-01-31T12:00:00Z)")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    offset = match.group(8).upper()
    try:
        zone = UTC
        if offset != "Z":
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            zone = timezone(delta if offset[0] == "+" else -delta)
        return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("not a valid date-time (a field or the offset is out of range)") from None


def normal_timestamp(value: str, now: datetime | None = None) -> str:
    """``value`` in the stored form (UTC, ``2026-01-31T12:00:00Z``), checked against the clock.

    A date-time later than ``now`` plus ``MAX_CLOCK_SKEW`` is refused (ValueError): GitHub
    stamps events when they happen, so such a value is corrupt, and accepting it would make
    every real later snapshot look stale.
    """
    parsed = parse_timestamp(value)
    if now is not None and parsed > now + MAX_CLOCK_SKEW:
        raise ValueError(f"lies more than {MAX_CLOCK_SKEW.total_seconds():.0f}s in the future")
    return stored_form(parsed)


def stored_form(moment: datetime) -> str:
    """How every accepted timestamp is stored: UTC to the second, ``2026-01-31T12:00:00Z``, so
    stored values order as strings (the year is zero-padded to four digits)."""
    t = moment.astimezone(UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def is_far_future(stored: str, now: datetime) -> bool:
    """True if a stored (normal form) timestamp lies beyond ``now`` plus the allowed skew."""
    try:
        return stored > stored_form(now + MAX_CLOCK_SKEW)
    except OverflowError:  # now is within the skew of year 9999
        return False


def text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be stored or rendered as text, or None: over ``limit`` characters,
    a NUL (PostgreSQL text refuses it) or a lone surrogate (not encodable as UTF-8)."""
    if len(value) > limit:
        return f"longer than {limit} characters"
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATES.search(value):
        return "is not valid Unicode (lone surrogate)"
    return None


def is_delivery_id(value: str) -> bool:
    """A webhook delivery id previewd stores: 1 to ``MAX_DELIVERY_ID_CHARS`` of ``[A-Za-z0-9._:-]``."""
    return len(value) <= MAX_DELIVERY_ID_CHARS and _DELIVERY_ID.fullmatch(value) is not None


def printable(value: str) -> str:
    """``value`` with every lone surrogate (which UTF-8 cannot encode) replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", value)


def printable_tree(value: Any) -> Any:
    """A JSON-like value with ``printable`` applied to every string in it (keys included)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_tree(v) for v in value]
    return value
