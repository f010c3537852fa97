"""W3C Baggage (https://www.w3.org/TR/baggage/): the ``previewd-pr`` member.

::

    baggage-string = list-member 0*179( OWS "," OWS list-member )
    list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
    property       = key OWS "=" OWS value / key OWS
    key            = token
    value          = *baggage-octet      ; percent-encoded UTF-8

Several ``baggage`` headers are one list, joined with commas. A member that does not parse is
skipped (the others still count); a baggage string longer than ``MAX_BAGGAGE_BYTES`` is not
read at all, and only its first ``MAX_MEMBERS`` members are. On the way out, other members are
kept verbatim; only ``previewd-pr`` is replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from previewd.propagation.value import canary_value, is_token

PR_KEY = "previewd-pr"
MAX_BAGGAGE_BYTES = 8192  # the W3C limit every platform must propagate, and what we read
MAX_MEMBERS = 64  # likewise, list-members

_OWS = " \t"
_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")  # baggage-octet


@dataclass(frozen=True)
class Member:
    """One list-member: its key, its percent-decoded value and its raw properties."""

    key: str
    value: str
    properties: tuple[str, ...] = ()


def joined(headers: Iterable[str | bytes]) -> str:
    """Several ``baggage`` header values as one baggage string (bytes as Latin-1, as HTTP has them)."""
    return ",".join(h.decode("latin-1") if isinstance(h, bytes) else h for h in headers)


def _key_value(text: str) -> tuple[str, str] | None:
    key, eq, value = text.partition("=")
    key, value = key.strip(_OWS), value.strip(_OWS)
    if not eq or not is_token(key) or not _VALUE.fullmatch(value):
        return None
    return key, value


def _property(text: str) -> bool:
    text = text.strip(_OWS)
    return is_token(text) if "=" not in text else _key_value(text) is not None


def parse_member(text: str) -> Member | None:
    """One list-member, or None when it does not follow the grammar."""
    head, *properties = text.split(";")
    pair = _key_value(head)
    if pair is None or not all(_property(p) for p in properties):
        return None
    key, raw = pair
    # Percent-decoded as UTF-8; octets that are not UTF-8 become U+FFFD, as the spec says.
    return Member(key, unquote(raw, errors="replace"), tuple(p.strip(_OWS) for p in properties))


def _raw_members(baggage: str) -> list[str]:
    return [m.strip(_OWS) for m in baggage.split(",") if m.strip(_OWS)]


def parse(baggage: str) -> list[Member]:
    """The members of a baggage string that parse, in order; [] when it is over the limits."""
    if len(baggage.encode("utf-8", "replace")) > MAX_BAGGAGE_BYTES:
        return []
    members = (parse_member(m) for m in _raw_members(baggage)[:MAX_MEMBERS])
    return [m for m in members if m is not None]


def read_pr(headers: Iterable[str | bytes]) -> str | None:
    """The ``previewd-pr`` value of these ``baggage`` headers, when there is exactly one member
    with that key and its value is a canary value; None otherwise."""
    values = [m.value for m in parse(joined(headers)) if m.key == PR_KEY]
    return canary_value(values[0]) if len(values) == 1 else None


def _is_pr_member(raw: str) -> bool:
    return raw.split(";", 1)[0].split("=", 1)[0].strip(_OWS) == PR_KEY


def without_pr(headers: Iterable[str | bytes], keep: str | None = None) -> str:
    """These ``baggage`` headers as one string, minus every ``previewd-pr`` member whose value
    is not ``keep``; every other member is kept verbatim, parsed or not."""
    kept = []
    for raw in _raw_members(joined(headers)):
        if _is_pr_member(raw):
            member = parse_member(raw)
            if keep is None or member is None or member.value != keep:
                continue
        kept.append(raw)
    return ",".join(kept)


def with_pr(headers: Iterable[str | bytes], value: str) -> str:
    """These ``baggage`` headers as one string carrying ``previewd-pr=<value>``: any earlier
    ``previewd-pr`` member is replaced, others are kept. If adding it would break the W3C
    limits, the other members win and the member is left out (the canary header still carries
    the value)."""
    members = _raw_members(without_pr(headers))
    candidate = ",".join([*members, f"{PR_KEY}={value}"])
    if len(members) + 1 > MAX_MEMBERS or len(candidate.encode("utf-8", "replace")) > MAX_BAGGAGE_BYTES:
        return ",".join(members)
    return candidate
