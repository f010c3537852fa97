"""Intake handlers for image-push notifications: normalise, then fan out to subscribers.

Registry hooks store ``{"registry": <configured host>, "payload": <body>}`` under the hook's
kind so the handler knows which registry's token authorised the notification; GitHub package
events are stored as received by ``/hooks/github``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from previewd.config import Config
from previewd.core.registry_events import FormatError, ImagePushed
from previewd.core.registry_formats import github_package, parse
from previewd.errors import PermanentError
from previewd.images import locate
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.image_pushes import dispatch

Handler = Callable[[JobContext, Connection, dict[str, Any]], Changed]


def _envelope(stored: dict[str, Any]) -> tuple[str, Any]:
    registry, payload = stored.get("registry"), stored.get("payload")
    if not isinstance(registry, str) or not isinstance(payload, dict):
        raise PermanentError("stored registry notification lacks registry or payload")
    return registry, payload


def registry_handler(kind: str) -> Handler:
    """The handler of events stored by ``/hooks/registry/<kind>``."""

    def handle(ctx: JobContext, conn: Connection, stored: dict[str, Any]) -> Changed:
        registry, payload = _envelope(stored)
        try:
            pushes = parse(kind, payload, registry)
        except FormatError as err:  # accepted by an older parser; nothing to act on now
            raise PermanentError(str(err)) from None
        return dispatch(ctx, conn, pushes)

    handle.__name__ = f"on_registry_{kind}"
    return handle


def github_package_handler(event_kind: str) -> Handler:
    def handle(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
        return dispatch(ctx, conn, github_package.parse(event_kind, payload))

    handle.__name__ = f"on_github_{event_kind}"
    return handle


def claimed(config: Config, push: ImagePushed) -> bool:
    """Whether any consumer may want ``push``: a preview image of a configured repository, or
    the release controller (which alone knows, when it drains, which app-env claims what; its
    view of the state repository may be older than this push, so it is always asked)."""
    if config.releases is not None:
        return True
    return any((where.host, where.repository.lower()) == (push.registry, push.repository)
               for repo in config.repositories for where in (locate(i.source) for i in repo.images))


def wanted_github_package(config: Config, event_kind: str, payload: dict[str, Any]) -> bool:
    """A GitHub package event is kept when a consumer claims its image, whatever repository
    published it (release-only repositories are not under ``repositories[]``)."""
    return any(claimed(config, push) for push in github_package.parse(event_kind, payload))
