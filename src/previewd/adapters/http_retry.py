"""Retry timing shared by the HTTP adapters (registry, GitHub): the server's ``Retry-After``
when it sends one, else capped exponential backoff."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

from previewd.core.backoff import backoff_delay


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds (fractions accepted) or an
    HTTP-date (relative to ``now``, Unix seconds, default the wall clock); never negative.
    None when the header is absent or unreadable."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def backoff(attempt: int, base: float = 0.5, cap: float = 4.0) -> float:
    """``base * 2**attempt`` seconds, at most ``cap`` (``attempt`` counts from 0): the jobs' one
    formula, with an HTTP call's short first wait and cap."""
    return backoff_delay(attempt + 1, first=base, cap=cap)
