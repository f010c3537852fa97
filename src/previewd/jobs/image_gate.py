"""Preview image gating: hold previews whose images are not pushed yet; wake them on a push.

The converge job asks the ``ImageResolver``; when images are missing it calls ``hold``, which
records ``waiting-for-image``, or ``gave_up`` after ``image_wait_timeout`` (``failed``), without
touching GitOps, so a previous deployment keeps running. ``on_image_pushed`` is the push subscriber:
a notification only makes the next check immediate; the digest still comes from the registry.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from previewd.adapters.store.sql import Store
from previewd.core.models import IMAGE_WAIT_KEY, Preview, PreviewState
from previewd.core.ports import ImageResolution
from previewd.core.registry_events import ImagePushed
from previewd.images import locate, match_tag, render_tag
from previewd.jobs.context import Changed, JobContext

log = logging.getLogger("previewd.images")

_HOLDABLE = (PreviewState.PENDING, PreviewState.WAITING_FOR_IMAGE, PreviewState.FAILED)


def gave_up(preview: Preview, resolution: ImageResolution) -> Preview:
    """``preview`` failed after waiting too long for an image, marked synced so it stops being
    re-checked; the caller passes it to ``mark_synced``."""
    return replace(preview, state=PreviewState.FAILED, synced_generation=preview.generation,
                   extra={**preview.extra, IMAGE_WAIT_KEY: resolution.wait})


def hold(store: Store, preview: Preview, resolution: ImageResolution) -> Preview | None:
    """Record that ``preview`` still waits for an image; returns the new record (it stays
    dirty, so it is checked again), or None when nothing changed."""
    if preview.state == PreviewState.WAITING_FOR_IMAGE and preview.extra.get(IMAGE_WAIT_KEY) == resolution.wait:
        return None  # nothing new (a check not due yet): no write on every worker pass
    with store.transaction() as conn:
        current = store.get_preview(preview.repo, preview.number, conn)
        if current is None or current.generation != preview.generation:
            return None  # changed meanwhile; the next pass sees the new record
        after = replace(current, state=PreviewState.WAITING_FOR_IMAGE,
                        extra={**current.extra, IMAGE_WAIT_KEY: resolution.wait})
        if after.state == current.state and after.extra == current.extra:
            return None
        store.put_preview(conn, after)
    return after


def released(preview: Preview) -> dict[str, Any]:
    """The ``extra`` of a preview whose images all resolved (the wait record is dropped)."""
    return {**preview.extra, IMAGE_WAIT_KEY: None} if preview.extra.get(IMAGE_WAIT_KEY) else preview.extra


def on_image_pushed(ctx: JobContext, conn: Connection, push: ImagePushed) -> Changed:
    """Push subscriber: re-check now the preview whose tag was pushed (a hint, never trusted)."""
    if push.tag is None:
        return []
    changed: Changed = []
    for repo in ctx.config.repositories:
        for image in repo.images:
            where = locate(image.source)
            if (where.host, where.repository.lower()) != (push.registry, push.repository.lower()):
                continue
            number = match_tag(image.tag, push.tag)
            if number is None:
                continue
            before = ctx.store.get_preview(repo.name, number, conn)
            if before is None or not before.allowed or before.pr is None:
                continue
            if render_tag(image.tag, number, before.pr.head_sha) != push.tag:
                continue  # a build of an older head: the preview waits for its current SHA
            if before.state not in _HOLDABLE:
                continue
            wait = dict(before.extra.get(IMAGE_WAIT_KEY) or {})
            generation = before.generation
            if before.state == PreviewState.FAILED:
                # A late push after the timeout: start a fresh wait and converge again.
                wait = {"sha": before.pr.head_sha}
                generation += 1
            wait.update(next_check=0, hinted=True)
            after = replace(before, generation=generation, extra={**before.extra, IMAGE_WAIT_KEY: wait})
            ctx.store.put_preview(conn, after)
            log.info("%s#%d: %s pushed; re-checking now", repo.name, number, push.reference)
            changed.append((before, after))
    return changed
