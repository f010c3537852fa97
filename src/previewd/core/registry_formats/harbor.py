"""Harbor webhooks in Harbor's own ("Default") payload format."""

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

PUSH = "PUSH_ARTIFACT"


class Resource(Shape):
    digest: str | None = None
    tag: str | None = None  # the digest itself for a push by digest (and from replication)
    resource_url: str | None = None


class Repository(Shape):
    repo_full_name: str


class PushData(Shape):
    resources: list[Resource]
    repository: Repository


class Header(Shape):
    type: str
    event_data: dict[str, Any]


class Push(Shape):
    type: str
    event_data: PushData


def pushes(data: PushData, registry: str | None) -> list[ImagePushed]:
    """The pushes of a Harbor artifact-push event's data (shared with the CloudEvents format)."""
    found = []
    for resource in data.resources:
        host = registry or host_of(resource.resource_url or "")
        if host:
            found.append(image_pushed(host, data.repository.repo_full_name, resource.tag,
                                      resource.digest))
    return hints(found)


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """Tagged pushes of a ``PUSH_ARTIFACT`` event; other event types are no push."""
    if validate(Header, payload, "Harbor").type != PUSH:
        return []
    return pushes(validate(Push, payload, "Harbor PUSH_ARTIFACT").event_data, registry)


def is_default_format(payload: Any) -> bool:
    return not (isinstance(payload, dict) and "specversion" in payload)


FORMAT = RegistryFormat("harbor", "harbor", parse, is_default_format)
