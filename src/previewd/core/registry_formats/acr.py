"""Azure Container Registry webhooks (one event per request; ``push`` is the image push)."""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import ImagePushed, RegistryFormat, hints, validate
from previewd.core.registry_formats.distribution import Event, event_push

# ACR sends one Distribution-shaped event per request (``push``, ``delete``, ``chart_push``,
# ``chart_delete``, ``quarantine``), without Distribution's ``events`` envelope.


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """The tagged image push of an ACR ``push`` event; other actions are no push."""
    push = event_push(validate(Event, payload, "Azure Container Registry"), registry, untyped=True)
    return hints([push] if push else [])


FORMAT = RegistryFormat("acr", "acr", parse)
