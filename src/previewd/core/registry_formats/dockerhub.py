"""Docker Hub repository webhooks (a push is the only event Docker Hub sends)."""

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
from previewd.images import DOCKER_HUB


class PushData(Shape):
    tag: str


class Repository(Shape):
    repo_name: str  # namespace/name ("library/<name>" for official images)


class Push(Shape):
    push_data: PushData
    repository: Repository


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """The pushed tag (Docker Hub sends no digest)."""
    push = validate(Push, payload, "Docker Hub")
    name = push.repository.repo_name
    if "/" not in name:
        name = f"library/{name}"  # as Docker resolves a bare official image name
    return hints([image_pushed(registry or DOCKER_HUB, name, push.push_data.tag, None)])


FORMAT = RegistryFormat("dockerhub", "dockerhub", parse)
