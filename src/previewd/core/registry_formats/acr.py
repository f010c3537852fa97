"""Azure Container Registry webhooks (one event per request; ``push`` is the image push)."""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import ImagePushed, RegistryFormat, hints, image_pushed, validate
from previewd.core.registry_formats.distribution import Event
from previewd.images import MANIFEST_MEDIA_TYPES

# ACR sends one Distribution-shaped event per request (``push``, ``delete``, ``chart_push``,
# ``chart_delete``, ``quarantine``), without Distribution's ``events`` envelope.


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """The tagged image push of an ACR ``push`` event; other actions are no push."""
    event = validate(Event, payload, "Azure Container Registry")
    target = event.target
    if event.action != "push" or (target.mediaType is not None
                                  and target.mediaType not in MANIFEST_MEDIA_TYPES):
        return []
    host = registry or (event.request.host if event.request else None)
    if not host:
        return []
    return hints([image_pushed(host, target.repository, target.tag, target.digest,
                               target.mediaType)])


FORMAT = RegistryFormat("acr", "acr", parse)
