"""JFrog Artifactory webhooks of the ``docker`` domain (event ``pushed``).

Artifactory wraps event data in ``{"domain", "event_type", "data", ...}``; its Docker domain
page documents the data object alone, so both are accepted. The image is addressed by the
repository-path method: ``<host>/<repo_key>/<image_name>:<tag>``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from previewd.core.registry_events import (
    ImagePushed,
    RegistryFormat,
    Shape,
    hints,
    image_pushed,
    validate,
)

PUSHED = "pushed"


class Envelope(Shape):
    domain: str
    event_type: str
    data: Any = None
    jpd_origin: str | None = None  # the platform URL, e.g. https://acme.jfrog.io


class DockerTag(Shape):
    event_type: str
    repo_key: str
    image_name: str
    tag: str
    sha256: str | None = None  # of the manifest: the image digest


def _origin_host(origin: str | None) -> str | None:
    try:
        return urlsplit(origin).hostname if origin else None
    except ValueError:
        return None


def parse(payload: Any, registry: str | None) -> list[ImagePushed]:
    """The pushed tag of a Docker ``pushed`` event; other domains and events are no push."""
    data, host = payload, registry
    if isinstance(payload, dict) and "domain" in payload:
        envelope = validate(Envelope, payload, "Artifactory")
        if envelope.domain != "docker" or envelope.event_type != PUSHED:
            return []
        data, host = envelope.data, registry or _origin_host(envelope.jpd_origin)
    event = validate(DockerTag, data, "Artifactory docker")
    if event.event_type != PUSHED or not host:
        return []
    digest = f"sha256:{event.sha256}" if event.sha256 else None
    return hints([image_pushed(host, f"{event.repo_key}/{event.image_name}", event.tag, digest)])


FORMAT = RegistryFormat("artifactory", "artifactory", parse)
