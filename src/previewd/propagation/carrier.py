"""What every transport does with the value, on whatever carries it (HTTP headers, gRPC metadata).

Incoming: the canary header decides when present (exactly one, valid; else no canary, and the
baggage member does not count); without it, the ``previewd-pr`` baggage member does. The HTTP
middleware also removes a value it did not accept from the request the application sees, so
nothing downstream can forward it.
Outgoing: with a current value, the canary header is set and the baggage member replaced;
without one, the request is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from previewd.propagation import baggage
from previewd.propagation.value import canary_value

BAGGAGE = "baggage"
ALLOW_HEADERS = "access-control-allow-headers"
REQUEST_HEADERS = "access-control-request-headers"
REQUEST_METHOD = "access-control-request-method"

Pairs = list[tuple[str, str]]


def accepted(canary: Sequence[str | bytes], baggage_headers: Sequence[str | bytes]) -> str | None:
    """The canary value a request carries, or None (see the module docstring for the rule)."""
    if canary:
        return canary_value(canary[0]) if len(canary) == 1 else None
    return baggage.read_pr(baggage_headers)


def cleaned(pairs: Pairs, key: str, value: str | None) -> Pairs:
    """Request headers (lower-case names) with the canary header only if ``value`` was accepted
    and ``previewd-pr`` baggage members only with that value."""
    kept = [(k, v) for k, v in pairs if k not in (key, BAGGAGE)]
    if value is not None:
        kept.append((key, value))
    bags = [v for k, v in pairs if k == BAGGAGE]
    if bags:
        rest = baggage.without_pr(bags, keep=value)
        if rest:
            kept.append((BAGGAGE, rest))
    return kept


def outgoing(pairs: Pairs, key: str, value: str) -> Pairs:
    """Request headers or metadata (``key`` lower-case, names compared case-insensitively) with
    the canary set to ``value`` and the baggage member merged in."""
    kept = [(k, v) for k, v in pairs if k.lower() not in (key, BAGGAGE)]
    bags = [v for k, v in pairs if k.lower() == BAGGAGE]
    merged = baggage.with_pr(bags, value)
    return [*kept, (key, value), *([(BAGGAGE, merged)] if merged else [])]


def is_preflight(method: str, names: Sequence[str]) -> bool:
    """A CORS preflight: OPTIONS with an Origin and Access-Control-Request-Method."""
    return method == "OPTIONS" and "origin" in names and REQUEST_METHOD in names


def _names(values: Sequence[str]) -> list[str]:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def without_requested(values: Sequence[str], header: str) -> str:
    """Access-Control-Request-Headers minus the canary header: the application's own CORS
    policy judges the rest, this middleware answers for its own header."""
    return ",".join(n for n in _names(values) if n.lower() != header.lower())


def allow_headers(values: Sequence[str], header: str) -> str:
    """Access-Control-Allow-Headers that names the canary header, keeping what the app allowed."""
    names = _names(values)
    if all(n.lower() != header.lower() for n in names):
        names.append(header)
    return ", ".join(names)
