"""Harbor webhooks in the CloudEvents payload format (structured mode, JSON)."""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import ImagePushed, RegistryFormat, Shape, validate
from previewd.core.registry_formats.harbor import PushData, pushes

PUSHED = "harbor.artifact.pushed"


class Header(Shape):
    specversion: str
    type: str
    data: Any = None


class Push(Shape):
    specversion: str
    type: str
    data: PushData


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """Tagged pushes of a ``harbor.artifact.pushed`` event; other event types are no push."""
    if validate(Header, payload, "Harbor CloudEvents").type != PUSHED:
        return []
    return pushes(validate(Push, payload, "Harbor CloudEvents artifact.pushed").data, registry)


def is_cloudevent(payload: Any) -> bool:
    return isinstance(payload, dict) and "specversion" in payload


FORMAT = RegistryFormat("harbor-cloudevents", "harbor", parse, is_cloudevent)
