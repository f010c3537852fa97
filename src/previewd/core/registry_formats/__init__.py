"""Registry notification formats: one parser module per format, one map entry per format.

``FORMATS`` maps a format's name to its ``RegistryFormat``; each is received on
``/hooks/registry/<kind>`` (Harbor's two payload formats share the ``harbor`` kind). GHCR
pushes come as GitHub events instead (``github_package``).
"""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import FormatError, ImagePushed, RegistryFormat
from previewd.core.registry_formats import (
    acr,
    artifactory,
    distribution,
    dockerhub,
    harbor,
    harbor_cloudevents,
    quay,
)

FORMATS: dict[str, RegistryFormat] = {
    "distribution": distribution.FORMAT,
    "harbor": harbor.FORMAT,
    "harbor-cloudevents": harbor_cloudevents.FORMAT,
    "quay": quay.FORMAT,
    "acr": acr.FORMAT,
    "dockerhub": dockerhub.FORMAT,
    "artifactory": artifactory.FORMAT,
}
KINDS: tuple[str, ...] = tuple(sorted({f.kind for f in FORMATS.values()}))


def format_of(kind: str, payload: Any) -> RegistryFormat:
    """The format of ``kind`` that ``payload`` is in (KeyError for an unknown kind)."""
    candidates = [f for f in FORMATS.values() if f.kind == kind]
    if not candidates:
        raise KeyError(kind)
    return next((f for f in candidates if f.claims(payload)), candidates[0])


def parse(kind: str, payload: Any, registry: str | None) -> list[ImagePushed]:
    """The tagged pushes a ``/hooks/registry/<kind>`` body announces; FormatError when the
    body is not in one of the kind's formats."""
    return format_of(kind, payload).parse(payload, registry)


__all__ = ["FORMATS", "KINDS", "FormatError", "format_of", "parse"]
