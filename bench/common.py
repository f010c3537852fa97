"""Small helpers every benchmark uses: percentiles, watching a bare repository's branch, and
reporting targets uniformly (a missed target makes the benchmark exit 2)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
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


def commit_count(bare: Path, branch: str = "main") -> int:
    """Commits on a bare repository's branch (0 before the first push)."""
    proc = subprocess.run(["git", "-C", str(bare), "rev-list", "--count", branch],
                          capture_output=True, text=True)
    return int(proc.stdout.strip() or 0) if proc.returncode == 0 else 0


def wait_until(predicate: Callable[[], bool], deadline: float, interval: float = 0.005) -> bool:
    """Poll ``predicate`` until it holds (True) or ``time.monotonic()`` passes ``deadline``."""
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class Targets:
    """A benchmark's targets: ``check`` gives the uniform ``target ... OK``/``MISSED`` text for
    a result line and remembers misses; ``exit_code`` is what ``main`` returns (2: missed)."""

    def __init__(self) -> None:
        self.missed: list[str] = []

    def check(self, name: str, met: bool, target: str) -> str:
        if not met:
            self.missed.append(name)
        return f"target {target}   {'OK' if met else 'MISSED'}"

    def exit_code(self) -> int:
        if self.missed:
            print(f"MISSED {len(self.missed)} target(s): {', '.join(self.missed)}")
            return 2
        return 0
