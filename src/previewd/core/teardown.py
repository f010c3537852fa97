"""The resync's mass-teardown guard: a pure decision over confirmed closes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TeardownPlan:
    """What one resync may tear down; ``blocked`` means it tears down none of them."""

    teardown: tuple[tuple[str, int], ...]
    blocked: bool
    reason: str


def plan_teardowns(confirmed_closed: list[tuple[str, int]], limit: int) -> TeardownPlan:
    """All of ``confirmed_closed`` if there are at most ``limit`` of them, otherwise none.

    More closes than expected at once is more likely a bug, an API anomaly or a
    misconfiguration than real work, so the whole batch waits for a human (or for webhooks,
    whose ``closed`` events are not capped).
    """
    closes = tuple(sorted(set(confirmed_closed)))
    if len(closes) > limit:
        return TeardownPlan(
            (), True,
            f"resync would tear down {len(closes)} previews (limit "
            f"github.max_teardowns_per_resync={limit}); tore down none",
        )
    return TeardownPlan(closes, False, "")
