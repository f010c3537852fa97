"""Error types. Each carries a human-readable ``diagnostics()`` text and its retry meaning."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import ValidationError

_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


class PreviewdError(Exception):
    """Base class for every error previewd raises on purpose."""

    def diagnostics(self) -> str:
        return str(self)


class ConfigError(PreviewdError):
    """The configuration is invalid; each problem names the key path and the reason."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))

    def diagnostics(self) -> str:
        if len(self.problems) == 1:  # one mistake, one line
            return f"invalid configuration ({self.source}): {self.problems[0]}"
        lines = [f"invalid configuration ({self.source}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class PermanentError(PreviewdError):
    """Retrying will not help (bad input, policy refusal)."""


class TransientError(PreviewdError):
    """Retrying later may help (network, push race, registry down)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def validation_problems(error: ValidationError, unknown: str = "unknown key") -> list[str]:
    """One ``dotted.path: reason`` line per problem of a pydantic validation error."""
    problems = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "<root>"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = unknown
        problems.append(f"{loc}: {message}")
    return problems


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without URL userinfo (``https://user:token@`` -> ``https://***@``) and without
    any of the known secret values: what errors and logs may carry."""
    text = _URL_USERINFO.sub(r"\g<scheme>***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
