"""Image pushes, normalised from any registry's notification (Distribution, Harbor, GHCR).

A push is only a hint: consumers re-resolve the digest from the registry before acting.
"""

from __future__ import annotations

from dataclasses import dataclass


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
