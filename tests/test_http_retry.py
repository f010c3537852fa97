"""Retry-After parsing and backoff shared by the registry and GitHub adapters."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from previewd.adapters.http_retry import backoff, retry_after

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0),
    ("1.5", 1.5),
    (" 3 ", 3.0),
    ("0", 0.0),
    ("-5", 0.0),  # negatives clamped
    ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
    ("Wed, 21 Oct 2015 07:28:30 -0000", 30.0),
    ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # a date in the past: no wait
    ("soon", None),
    ("nan", None),
    ("", None),
])
def test_retry_after(value: str, expected: float | None) -> None:
    assert retry_after(httpx.Headers({"Retry-After": value}), now=NOW) == expected


def test_retry_after_absent() -> None:
    assert retry_after(httpx.Headers({}), now=NOW) is None
    assert retry_after({}, now=NOW) is None


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(a) for a in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert backoff(3, base=1.0, cap=30.0) == 8.0
