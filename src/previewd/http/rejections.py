"""The rejection log: one line per refused webhook (status, reason, delivery id), rate-limited
per kind so a flood of forged deliveries cannot flood the log. Never a secret or a body."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from previewd.core.values import DELIVERY_ID_CHARS
from previewd.http.limits import (
    MAX_LOGGED_DELIVERY_ID,
    MAX_LOGGED_REASON,
    REJECTION_LOG_BURST,
    REJECTION_LOG_INTERVAL,
)

log = logging.getLogger("previewd.webhooks")

DELIVERY_UNSAFE = re.compile(rf"[^{DELIVERY_ID_CHARS}]")
REASON_UNSAFE = re.compile(r"[^\x20-\x7e]")


def loggable(text: str, unsafe: re.Pattern[str], limit: int) -> str:
    """``text`` with every ``unsafe`` character as ``?``, cut to ``limit`` characters."""
    cleaned = unsafe.sub("?", text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


@dataclass
class Window:
    start: float
    logged: int = 0
    suppressed: int = 0


class RejectionLog:
    """At most ``burst`` lines per kind (source and status) per ``interval`` seconds; the number
    left out is logged with the first line of the kind's next window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, burst: int = REJECTION_LOG_BURST,
                 interval: float = REJECTION_LOG_INTERVAL, logger: logging.Logger = log) -> None:
        self.clock, self.burst, self.interval, self.logger = clock, burst, interval, logger
        self.windows: dict[tuple[str, int], Window] = {}

    def refused(self, source: str, status: int, reason: str, delivery: str | None) -> None:
        now = self.clock()
        key = (source, status)
        window = self.windows.get(key)
        carried = 0
        if window is None or now - window.start >= self.interval:
            carried = window.suppressed if window is not None else 0
            window = self.windows[key] = Window(start=now)
        if window.logged >= self.burst:
            window.suppressed += 1
            return
        window.logged += 1
        note = f" ({carried} more {source} {status} refusals were not logged)" if carried else ""
        self.logger.warning(
            "refused %s webhook: %d %s (delivery %s)%s", source, status,
            loggable(reason, REASON_UNSAFE, MAX_LOGGED_REASON),
            loggable(delivery, DELIVERY_UNSAFE, MAX_LOGGED_DELIVERY_ID) if delivery else "-", note)
