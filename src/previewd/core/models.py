"""Frozen value types shared by the core, the jobs and the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Keys of ``Preview.extra`` written by the jobs and read by the API, dashboard and feedback.
IMAGE_WAIT_KEY = "image_wait"  # the image resolver's wait record (missing image, since, next check)
TAG_CLEANUP_KEY = "tag_cleanup"  # a torn-down preview's registry tag cleanup request and outcome
RENDER_ERROR_KEY = "render_error"  # why the preview could not be rendered (cleared once it renders)


@dataclass(frozen=True)
class PullRequest:
    """The facts about a pull request that decisions depend on (a snapshot from GitHub)."""

    repo: str  # base repository, owner/name
    number: int
    state: str  # "open" | "closed"
    merged: bool
    draft: bool
    labels: tuple[str, ...]
    head_sha: str
    head_repo: str | None  # None when the fork was deleted
    author_login: str
    author_type: str  # "User" | "Bot" | "Organization"
    updated_at: str  # ISO 8601 from GitHub, used to order snapshots
    created_at: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def is_fork(self) -> bool:
        return self.head_repo is None or self.head_repo.lower() != self.repo.lower()

    @property
    def is_bot(self) -> bool:
        return self.author_type == "Bot" or self.author_login.endswith("[bot]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "number": self.number,
            "state": self.state,
            "merged": self.merged,
            "draft": self.draft,
            "labels": list(self.labels),
            "head_sha": self.head_sha,
            "head_repo": self.head_repo,
            "author_login": self.author_login,
            "author_type": self.author_type,
            "updated_at": self.updated_at,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PullRequest:
        return cls(**{**data, "labels": tuple(data["labels"])})


@dataclass(frozen=True)
class Decision:
    """Whether a PR gets a preview, with a short human-readable reason (a value, not an error)."""

    allowed: bool
    reason: str
    code: str  # machine-readable: "ok", "closed", "merged", "draft", "fork", "bot", ...


class PreviewState(StrEnum):
    """Where a preview is in its life."""

    NONE = "none"  # no preview wanted, none exists
    PENDING = "pending"  # wanted, not yet committed to GitOps
    WAITING_FOR_IMAGE = "waiting-for-image"
    DEPLOYING = "deploying"  # committed; Argo CD has not reported yet
    READY = "ready"
    DEGRADED = "degraded"
    FAILED = "failed"
    DELETING = "deleting"  # removal wanted, not yet committed
    TORN_DOWN = "torn-down"


@dataclass(frozen=True)
class Preview:
    """previewd's record of one PR's preview, as kept in the store."""

    repo: str
    number: int
    pr: PullRequest | None
    allowed: bool
    reason: str
    reason_code: str
    state: PreviewState
    namespace: str
    host: str | None
    deployed_sha: str | None = None  # head SHA currently committed in GitOps
    generation: int = 0  # bumped whenever the desired GitOps content may have changed
    synced_generation: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # adapter-owned details (comment id ...)

    @property
    def head_sha(self) -> str | None:
        return self.pr.head_sha if self.pr else None

    @property
    def dirty(self) -> bool:
        return self.generation != self.synced_generation


@dataclass(frozen=True)
class FileChange:
    """One preview's desired content in the GitOps repo: ``files`` None means remove it."""

    directory: str
    files: dict[str, bytes] | None
    message: str
