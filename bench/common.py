"""Small helpers every benchmark uses: percentiles and watching a bare repository's branch."""

from __future__ import annotations

import time
from pathlib import Path


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ref_value(bare: Path, branch: str = "main") -> str:
    """The commit a bare repository's branch points at ("" before the first push)."""
    try:
        return (bare / "refs" / "heads" / branch).read_text()
    except FileNotFoundError:
        return ""


def wait_ref_change(bare: Path, old: str, timeout: float = 60.0) -> float:
    """Poll the branch until it moves; return ``time.perf_counter()`` at that moment."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if ref_value(bare) != old:
            return time.perf_counter()
        time.sleep(0.0005)
    raise TimeoutError(f"{bare}: no commit arrived within {timeout} s")
