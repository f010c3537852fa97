"""Retry delays (pure): one capped exponential backoff for every job that retries."""

from __future__ import annotations


def backoff_delay(attempts: int, retry_after: float | None = None, *, first: float, cap: float) -> float:
    """Seconds to wait after ``attempts`` consecutive failures: ``first``, twice that, four
    times ... up to ``cap``; never shorter than a server's ``Retry-After``."""
    delay = min(first * 2 ** max(attempts - 1, 0), cap)
    return float(max(delay, retry_after or 0.0))
