"""Fan an image push out to every capability that cares (preview gating, releases).

Registry notification handlers normalise payloads into ``ImagePushed`` and call
``dispatch``; each subscriber re-resolves from the registry before acting.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from previewd.core.registry_events import ImagePushed
from previewd.jobs import image_gate, releases
from previewd.jobs.context import Changed, JobContext

PushSubscriber = Callable[[JobContext, Connection, ImagePushed], Changed]

# Subscribers are registered here, one line each (preview gating, release controller).
PUSH_SUBSCRIBERS: list[PushSubscriber] = [
    image_gate.on_image_pushed,
    releases.on_image_pushed,
]


def dispatch(ctx: JobContext, conn: Connection, pushes: list[ImagePushed]) -> Changed:
    changed: Changed = []
    for push in pushes:
        for subscriber in PUSH_SUBSCRIBERS:
            changed += subscriber(ctx, conn, push)
    return changed
