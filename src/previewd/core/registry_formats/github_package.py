"""GHCR pushes from GitHub ``package`` / ``registry_package`` webhook events.

These arrive on ``/hooks/github`` (signed with the webhook secret), not on a registry hook.
"""

from __future__ import annotations

from typing import Any

from previewd.core.registry_events import FormatError, ImagePushed, image_pushed

GHCR = "ghcr.io"
EVENT_KINDS = ("package", "registry_package")
_CONTAINER_TYPES = frozenset({"container", "docker"})


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(event_kind: str, payload: dict[str, Any]) -> list[ImagePushed]:
    """The tagged GHCR container push of a published/updated package version, else []."""
    if event_kind not in EVENT_KINDS or payload.get("action") not in ("published", "updated"):
        return []
    package = _dict(payload.get(event_kind))
    if (_str(package.get("package_type")) or "").lower() not in _CONTAINER_TYPES:
        return []
    version = _dict(package.get("package_version"))
    container = _dict(version.get("container_metadata"))
    tag = _str(_dict(container.get("tag")).get("name"))
    digest = _str(_dict(container.get("manifest")).get("digest")) or _str(
        _dict(container.get("tag")).get("digest"))
    media_type = _str(_dict(container.get("manifest")).get("media_type"))
    owner = _str(_dict(package.get("owner")).get("login")) or _str(
        (_str(package.get("namespace")) or "").split("/")[0])
    name = _str(package.get("name"))
    url = _str(version.get("package_url")) or ""
    if url.startswith(f"{GHCR}/") and ":" in url.rsplit("/", 1)[-1]:
        path, _, url_tag = url.removeprefix(f"{GHCR}/").rpartition(":")
        repository: str | None = path
        tag = tag or _str(url_tag)
    else:
        repository = f"{owner}/{name}" if owner and name else None
    if not repository or not tag:
        return []  # untagged (a platform manifest of a multi-arch push) or not a container
    try:
        # GHCR image names are lower-case whatever the owner's spelling.
        push = image_pushed(GHCR, repository, tag, digest, media_type)
    except FormatError:
        return []  # not an image name GHCR could serve: nobody can claim it
    return [push] if push.tag else []
