"""Protocols the jobs need from adapters. Adapters implement them; tests use fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from previewd.core.models import Preview

if TYPE_CHECKING:
    from previewd.config import RepositoryConfig


@dataclass(frozen=True)
class ImageResolution:
    """Whether a preview's images exist for its head SHA, and their digest-pinned refs."""

    ready: bool
    images: dict[str, str] = field(default_factory=dict)  # bundle image name -> repo@sha256:...
    missing: str | None = None  # "registry.example.com/acme/shop:pr-42-<sha>" when not ready
    failed: bool = False  # gave up (image_wait_timeout passed)
    # The resolver's wait record (since, next check, last error), kept in Preview.extra so the
    # timeout survives restarts and re-checks back off instead of running every pass.
    wait: dict[str, Any] = field(default_factory=dict)


class ImageResolver(Protocol):
    def resolve(self, repo: RepositoryConfig, preview: Preview) -> ImageResolution: ...


class NoImages:
    """The resolver for repositories without image gating: always ready, nothing pinned."""

    def resolve(self, repo: RepositoryConfig, preview: Preview) -> ImageResolution:
        return ImageResolution(ready=True)


class ChangedFiles(Protocol):
    """The repository paths a pull request changes (SCM API)."""

    def pull_files(self, repo: str, number: int) -> list[str]: ...


class PreviewObserver(Protocol):
    """Told after a preview's record changed (PR feedback, metrics)."""

    def preview_changed(self, before: Preview | None, after: Preview) -> None: ...


Clock = Callable[[], float]


@dataclass(frozen=True)
class PackageVersion:
    """One GHCR package version (a manifest) with the tags GitHub lists for it."""

    id: int
    digest: str
    tags: tuple[str, ...]


class ContainerPackages(Protocol):
    """The GitHub Packages API for container packages (GHCR), owner being a user or an org."""

    def list_container_versions(self, owner: str, package: str) -> list[PackageVersion]: ...
    def delete_container_version(self, owner: str, package: str, version_id: int) -> None: ...
