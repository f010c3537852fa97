"""The mass-teardown guard: a pure decision over every teardown one batch would cause."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from previewd.core.models import Preview, PreviewState


def causes_teardown(before: Preview | None, after: Preview | None) -> bool:
    """True if recording ``after`` over ``before`` starts removing a preview, for any reason
    (closed, merged, label gone, draft, fork, bot, excluded...)."""
    return after is not None and after.state == PreviewState.DELETING and \
        (before is None or before.state != PreviewState.DELETING)


@dataclass(frozen=True)
class TeardownPlan:
    """What one batch may tear down; ``blocked`` means it tears down none of them."""

    teardown: tuple[tuple[str, int], ...]
    blocked: bool
    reason: str


def plan_teardowns(teardowns: Iterable[tuple[str, int]], limit: int) -> TeardownPlan:
    """All of ``teardowns`` if there are at most ``limit`` of them, otherwise none.

    More teardowns than expected at once is more likely a bug, an API anomaly (a list without
    labels, every PR suddenly a draft) or a misconfiguration than real work, so the whole batch
    waits for a human: webhooks, one PR each, are not capped, and a raised
    ``github.max_teardowns_per_resync`` lets the next resync through.
    """
    planned = tuple(sorted(set(teardowns)))
    if len(planned) > limit:
        return TeardownPlan(
            (), True,
            f"resync would tear down {len(planned)} previews (limit "
            f"github.max_teardowns_per_resync={limit}); tore down none",
        )
    return TeardownPlan(planned, False, "")
