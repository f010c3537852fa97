"""Quay (quay.io and Red Hat Quay) "Push to Repository" notifications."""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import (
    ImagePushed,
    RegistryFormat,
    Shape,
    hints,
    host_of,
    image_pushed,
    validate,
)


class RepoPush(Shape):
    repository: str  # namespace/name
    docker_url: str  # host/namespace/name, as pulled
    updated_tags: list[str]


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """One hint per updated tag (Quay sends no digests)."""
    push = validate(RepoPush, payload, "Quay repo_push")
    host = registry or host_of(push.docker_url)
    if not host:
        return []
    return hints([image_pushed(host, push.repository, tag, None) for tag in push.updated_tags])


FORMAT = RegistryFormat("quay", "quay", parse)
