"""Intake handlers for image-push notifications: normalise, then fan out to subscribers.

Registry hooks store ``{"registry": <configured host>, "payload": <body>}`` so the handler
knows which registry's token authorised the notification; GitHub package events are stored
as received by ``/hooks/github``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from previewd.core.registry_events import (
    parse_distribution,
    parse_github_package,
    parse_harbor,
)
from previewd.errors import PermanentError
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.image_pushes import dispatch


def _envelope(stored: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    registry, payload = stored.get("registry"), stored.get("payload")
    if not isinstance(registry, str) or not isinstance(payload, dict):
        raise PermanentError("stored registry notification lacks registry or payload")
    return registry, payload


def on_distribution(ctx: JobContext, conn: Connection, stored: dict[str, Any]) -> Changed:
    registry, payload = _envelope(stored)
    return dispatch(ctx, conn, parse_distribution(payload, registry))


def on_harbor(ctx: JobContext, conn: Connection, stored: dict[str, Any]) -> Changed:
    registry, payload = _envelope(stored)
    return dispatch(ctx, conn, parse_harbor(payload, registry))


def on_github_package(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
    return dispatch(ctx, conn, parse_github_package("package", payload))


def on_github_registry_package(
    ctx: JobContext, conn: Connection, payload: dict[str, Any]
) -> Changed:
    return dispatch(ctx, conn, parse_github_package("registry_package", payload))
