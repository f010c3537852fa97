"""The canary value and header names: what is accepted, everything else is dropped."""

from __future__ import annotations

import re

DEFAULT_HEADER = "X-Canary"
MAX_DIGITS = 10  # a PR number: digits only, 1 to MAX_DIGITS of them
MAX_HEADER_NAME = 64  # characters in a configurable header name
ECHO_SUFFIX = "-Echo"  # X-Canary -> X-Canary-Echo on responses, when asked for

_VALUE = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")  # ASCII digits only: str.isdigit() admits "١"
_TOKEN = re.compile(rf"[!#$%&'*+.^_`|~0-9A-Za-z-]{{1,{MAX_HEADER_NAME}}}")  # RFC 9110 token
_OWS = " \t"


def canary_value(raw: str | bytes | None) -> str | None:
    """``raw`` (one header or metadata value) as a canary value, or None when it is not one.

    Optional whitespace around the value is not part of it (RFC 9110); anything else that is
    not 1 to ``MAX_DIGITS`` ASCII digits (``42; drop``, ``../``, eleven digits, non-ASCII,
    an empty value) is not a canary value.
    """
    if raw is None:
        return None
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    value = raw.strip(_OWS)
    return value if _VALUE.fullmatch(value) else None


def is_token(text: str) -> bool:
    """Whether ``text`` is an RFC 9110 token of at most ``MAX_HEADER_NAME`` characters."""
    return _TOKEN.fullmatch(text) is not None


def header_name(name: str) -> str:
    """``name`` if it can be an HTTP header name; a ValueError otherwise (a wiring mistake)."""
    if not is_token(name):
        raise ValueError(f"{name!r} is not an HTTP header name (1-{MAX_HEADER_NAME} token characters)")
    if name.lower() == "baggage":
        raise ValueError("the canary header cannot be 'baggage': that header carries previewd-pr")
    return name


def checked(value: str | int | None) -> str | None:
    """``value`` for :func:`previewd.propagation.use`: None, or a valid canary value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"a canary value is a str of digits, an int or None, not {type(value).__name__}")
    accepted = canary_value(str(value))
    if accepted is None or accepted != str(value):
        raise ValueError(f"{value!r} is not a canary value (1-{MAX_DIGITS} ASCII digits)")
    return accepted
