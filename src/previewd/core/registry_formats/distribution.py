"""CNCF Distribution (``registry:2``, Docker's open-source registry) notification envelopes."""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import (
    ImagePushed,
    RegistryFormat,
    Shape,
    hints,
    image_pushed,
    validate,
)
from previewd.images import MANIFEST_MEDIA_TYPES


class Target(Shape):
    repository: str
    mediaType: str | None = None
    tag: str | None = None
    digest: str | None = None


class Request(Shape):
    host: str | None = None


class Event(Shape):
    action: str
    target: Target
    request: Request | None = None


class Envelope(Shape):
    events: list[Event]


def event_push(event: Event, registry: str | None, *, untyped: bool = False) -> ImagePushed | None:
    """The manifest push one event announces, or None (another action, a blob, no host).

    ``untyped``: an event without a ``mediaType`` counts as a manifest push (ACR omits it).
    Without a configured ``registry`` the host the pusher used (``request.host``) is taken.
    """
    target = event.target
    if event.action != "push" or not (target.mediaType in MANIFEST_MEDIA_TYPES
                                      or (untyped and target.mediaType is None)):
        return None
    host = registry or (event.request.host if event.request else None)
    if not host:
        return None
    return image_pushed(host, target.repository, target.tag, target.digest, target.mediaType)


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """Tagged manifest pushes (pulls, blob uploads and untagged platform manifests are not)."""
    envelope = validate(Envelope, payload, "CNCF Distribution")
    return hints([push for event in envelope.events if (push := event_push(event, registry))])


FORMAT = RegistryFormat("distribution", "distribution", parse)
