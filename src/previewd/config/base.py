"""Building blocks of every config section: strict models, durations, checked strings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from previewd import naming

_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:[^/@\s]*@")
_HTTP_URL = re.compile(r"https?://[^\s/]+(/\S*)?")


def parse_duration(value: object) -> timedelta:
    """Parse ``30s``, ``5m``, ``2h``, ``7d`` (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 5m, 2h or 7d, got {value!r}")


def _dns_label(value: str) -> str:
    if not naming.is_dns_label(value):
        raise ValueError("must be a DNS-1123 label (lower-case letters, digits, '-')")
    return value


def _relative_path(value: str) -> str:
    clean = value.strip("/")
    if not clean or any(p in ("", ".", "..") for p in clean.split("/")):
        raise ValueError("must be a relative path without '.' or '..' segments")
    return clean


def _git_url(value: str) -> str:
    # A password in a URL ends up in rendered manifests, logs and .git/config; credentials go
    # in gitops.username/password (handed to git through GIT_ASKPASS) instead.
    if _URL_PASSWORD.match(value):
        raise ValueError("must not contain credentials (user:password@); use username and password")
    if value.startswith("-") or any(c.isspace() for c in value) or not value:
        raise ValueError("not a git URL or path")
    return value


def _http_url(value: str) -> str:
    if not _HTTP_URL.fullmatch(value):
        raise ValueError("expected an http(s) URL")
    return value.rstrip("/")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
RelativePath = Annotated[str, AfterValidator(_relative_path)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
GitUrl = Annotated[str, AfterValidator(_git_url)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors, no value is coerced (strict), values
    are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
