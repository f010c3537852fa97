"""GitHub HTTP plumbing shared by the adapter: replies, rate-limit state, error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from previewd.errors import PermanentError, TransientError


class NotFound(PermanentError):
    """The resource does not exist (or is not visible to these credentials)."""


class RateLimited(TransientError):
    """GitHub asked us to slow down; ``retry_after`` says for how long."""


@dataclass
class RateLimit:
    """The last ``X-RateLimit-*`` values seen (core resource unless noted)."""

    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None  # epoch seconds
    used: int | None = None
    resource: str | None = None
    paused_until: float | None = None  # wall clock; set while backing off

    def as_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset,
                "used": self.used, "resource": self.resource, "paused_until": self.paused_until}


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any
    not_modified: bool = False
    next_url: str | None = None  # ``Link: <...>; rel="next"``


def is_secondary_limit(response: Any) -> bool:
    try:
        return "secondary rate limit" in str(response.json().get("message", "")).lower()
    except Exception:  # an unparsable body is not a rate-limit answer
        return False


def accept_json(request: httpx.Request) -> None:
    """GitHub's media type first, plain JSON too (what the OpenAPI description lists); applies
    to githubkit's own installation-token requests as well."""
    if request.headers.get("accept") == "application/vnd.github+json":
        request.headers["Accept"] = "application/vnd.github+json, application/json"


def failure(method: str, url: str, status: int, response: Any) -> Exception:
    try:
        message = str(response.json().get("message", ""))[:200]
    except Exception:  # an unparsable error body is reported by status alone
        message = ""
    text = f"GitHub {method} {api_path(url)}: HTTP {status}" + (f" ({message})" if message else "")
    if status == 404:
        return NotFound(text)
    if status >= 500 or status == 429:
        return TransientError(text)
    return PermanentError(text)


def api_path(url: str) -> str:
    return httpx.URL(url).path  # never the query (no credentials are put there, but be sure)
