"""Image pushes, normalised from any registry's notification (Distribution, Harbor, GHCR).

A push is only a hint: consumers re-resolve the digest from the registry before acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImagePushed:
    registry: str  # host[:port], lower-case, e.g. "registry.example.com" or "ghcr.io"
    repository: str  # path inside the registry, e.g. "acme/shop"
    tag: str | None  # None for an untagged (digest-only) push
    digest: str | None  # as the notification claims; re-resolve before trusting it
    media_type: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


# Only manifests (never blobs) are image pushes; an index is one push for every platform.
MANIFEST_MEDIA_TYPES = frozenset({
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
})
_GITHUB_CONTAINER_TYPES = frozenset({"container", "docker"})


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def dedupe(pushes: list[ImagePushed]) -> list[ImagePushed]:
    """One push per (registry, repository, tag), the last one winning, order kept.

    A multi-arch push yields one event per platform manifest plus the index; consumers
    re-resolve the tag anyway, so a single hint per tag is enough.
    """
    latest: dict[tuple[str, str, str | None], ImagePushed] = {}
    for push in pushes:
        key = (push.registry, push.repository, push.tag)
        latest.pop(key, None)
        latest[key] = push
    return list(latest.values())


def parse_distribution(payload: dict[str, Any], registry: str | None = None) -> list[ImagePushed]:
    """Tagged manifest pushes from a CNCF Distribution notification envelope.

    ``registry`` is the configured host whose notifications token authorised the request;
    without it the host the pusher used (``request.host``) is taken.
    """
    pushes = []
    for event in payload.get("events") or []:
        event = _dict(event)
        target = _dict(event.get("target"))
        repository, tag = _str(target.get("repository")), _str(target.get("tag"))
        if event.get("action") != "push" or not repository or not tag:
            continue
        if target.get("mediaType") not in MANIFEST_MEDIA_TYPES:
            continue
        host = registry or _str(_dict(event.get("request")).get("host"))
        if not host:
            continue
        pushes.append(ImagePushed(host.lower(), repository, tag, _str(target.get("digest")),
                                  _str(target.get("mediaType"))))
    return dedupe(pushes)


def parse_harbor(payload: dict[str, Any], registry: str | None = None) -> list[ImagePushed]:
    """Tagged pushes from a Harbor ``PUSH_ARTIFACT`` webhook (other event types are ignored)."""
    if payload.get("type") != "PUSH_ARTIFACT":
        return []
    data = _dict(payload.get("event_data"))
    repository = _str(_dict(data.get("repository")).get("repo_full_name"))
    pushes = []
    for resource in data.get("resources") or []:
        resource = _dict(resource)
        tag = _str(resource.get("tag"))
        url = _str(resource.get("resource_url")) or ""
        host = registry or (url.split("/", 1)[0] if "/" in url else None)
        if not repository or not tag or not host:
            continue
        pushes.append(ImagePushed(host.lower(), repository, tag, _str(resource.get("digest"))))
    return dedupe(pushes)


def parse_github_package(event_kind: str, payload: dict[str, Any]) -> list[ImagePushed]:
    """A GHCR container push from a GitHub ``package`` or ``registry_package`` event."""
    if event_kind not in ("package", "registry_package"):
        return []
    if payload.get("action") not in ("published", "updated"):
        return []
    package = _dict(payload.get(event_kind))
    kind = (_str(package.get("package_type")) or "").lower()
    if kind not in _GITHUB_CONTAINER_TYPES:
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
    if url.startswith("ghcr.io/") and ":" in url.rsplit("/", 1)[-1]:
        path, _, url_tag = url.removeprefix("ghcr.io/").rpartition(":")
        repository: str | None = path
        tag = tag or _str(url_tag)
    else:
        repository = f"{owner}/{name}" if owner and name else None
    if not repository or not tag:
        return []  # untagged (a platform manifest of a multi-arch push) or not a container
    # GHCR image names are lower-case whatever the owner's spelling.
    return [ImagePushed("ghcr.io", repository.lower(), tag, digest, media_type)]
