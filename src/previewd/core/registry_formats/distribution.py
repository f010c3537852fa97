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


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """Tagged manifest pushes (pulls, blob uploads and untagged platform manifests are not).

    Without a configured ``registry`` the host the pusher used (``request.host``) is taken.
    """
    envelope = validate(Envelope, payload, "CNCF Distribution")
    pushes = []
    for event in envelope.events:
        target = event.target
        if event.action != "push" or target.mediaType not in MANIFEST_MEDIA_TYPES:
            continue
        host = registry or (event.request.host if event.request else None)
        if host:
            pushes.append(image_pushed(host, target.repository, target.tag, target.digest,
                                       target.mediaType))
    return hints(pushes)


FORMAT = RegistryFormat("distribution", "distribution", parse)
