"""Release controller jobs: the image-push subscriber and the worker's periodic jobs.

The subscriber only queues the push inside the event's transaction (cheap, durable); the
``releases-drain`` job handles the queue right after, outside it, so webhooks are never held up
by git or registry calls.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from previewd.core.registry_events import ImagePushed
from previewd.jobs.context import Changed, JobContext
from previewd.releases.controller import ReleaseController

ADAPTER = "releases"


def controller_of(ctx: JobContext) -> ReleaseController | None:
    controller = ctx.adapters.get(ADAPTER)
    return controller if isinstance(controller, ReleaseController) else None


def on_image_pushed(ctx: JobContext, conn: Connection, push: ImagePushed) -> Changed:
    controller = controller_of(ctx)
    if controller is not None:
        controller.enqueue(conn, push)
    return []  # releases change no preview


def drain(ctx: JobContext) -> None:
    controller = controller_of(ctx)
    if controller is not None:
        controller.drain()


def poll(ctx: JobContext) -> None:
    controller = controller_of(ctx)
    if controller is not None:
        controller.poll()
