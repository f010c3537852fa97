"""Delete a torn-down preview's image tags from the registry (``cleanup_tags: true``).

Teardown only records a request in ``Preview.extra[TAG_CLEANUP_KEY]``; this periodic job does
the registry work later, so a slow or broken registry never delays the GitOps commit. It reads
only the previews with a pending request, each retried on its own backoff (``next_at``).

Only tags that the repository's tag template produces for that PR number are candidates.
Registries delete manifests by digest, which removes *every* tag on that digest, so a
candidate whose digest is also carried by any other tag (``main``, another PR) is kept and
reported instead. GHCR has no registry delete; it goes through the GitHub Packages API
(``ctx.adapters["ghcr"]``, a ``ContainerPackages``) with the same rule per package version.
Without that adapter GHCR images are skipped and reported.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from previewd.adapters.registry import ManifestInfo
from previewd.config import RepositoryConfig
from previewd.core.backoff import backoff_delay
from previewd.core.models import TAG_CLEANUP_KEY, Preview, PreviewState
from previewd.core.ports import ContainerPackages
from previewd.errors import PermanentError, PreviewdError, TransientError
from previewd.images import locate, tag_pattern
from previewd.jobs.context import JobContext, RetryIn

log = logging.getLogger("previewd.tag_cleanup")

MAX_ATTEMPTS = 8
FIRST_RETRY = 2.0
MAX_RETRY = 600.0
GHCR = "ghcr.io"


class TagRegistry(Protocol):
    def head_manifest(self, host: str, repository: str, reference: str) -> ManifestInfo | None: ...
    def list_tags(self, host: str, repository: str) -> list[str]: ...
    def delete_manifest(self, host: str, repository: str, digest: str) -> bool: ...


@dataclass
class Outcome:
    deleted: list[str] = field(default_factory=list)  # host/repo:tag
    kept: list[str] = field(default_factory=list)  # "host/repo:tag (why)"


def request(repo: RepositoryConfig, preview: Preview, state: PreviewState) -> dict[str, Any]:
    """``extra`` for a preview being torn down: asks for cleanup when the repo wants it."""
    if not repo.cleanup_tags or state != PreviewState.TORN_DOWN:
        return preview.extra
    return {**preview.extra, TAG_CLEANUP_KEY: {"pending": True, "attempts": 0}}


def clean_ghcr_tags(packages: ContainerPackages, image: str, template: str, number: int,
                    outcome: Outcome) -> None:
    """Delete the GHCR versions whose every tag is one of the PR's; keep and report shared ones."""
    where = locate(image)
    owner, _, package = where.repository.partition("/")
    pattern = tag_pattern(template, number)
    for version in packages.list_container_versions(owner, package):
        mine = sorted(t for t in version.tags if pattern.match(t))
        others = sorted(t for t in version.tags if not pattern.match(t))
        if not mine:
            continue
        if others:
            outcome.kept += [f"{where}:{t} (same digest as tag {others[0]})" for t in mine]
            continue
        packages.delete_container_version(owner, package, version.id)
        outcome.deleted += [f"{where}:{t}" for t in mine]


def clean_pr_tags(registry: TagRegistry, repo: RepositoryConfig, number: int,
                  packages: ContainerPackages | None = None) -> Outcome:
    """Delete the PR's tags of every configured image; raises on registry errors."""
    outcome = Outcome()
    for image in repo.images:
        where = locate(image.source)
        if where.host == GHCR:
            if packages is None:
                outcome.kept.append(f"{where}: GHCR cleanup needs the GitHub Packages API "
                                    "(github.auth.token with read:packages, delete:packages)")
            else:
                clean_ghcr_tags(packages, image.source, image.tag, number, outcome)
            continue
        pattern = tag_pattern(image.tag, number)
        tags = registry.list_tags(where.host, where.repository)
        mine = [t for t in tags if pattern.match(t)]
        if not mine:
            continue
        digests: dict[str, str] = {}
        for tag in mine:
            info = registry.head_manifest(where.host, where.repository, tag)
            if info is not None:
                digests[tag] = info.digest
        protected: dict[str, str] = {}
        for tag in tags:
            if pattern.match(tag):
                continue
            info = registry.head_manifest(where.host, where.repository, tag)
            if info is not None:
                protected.setdefault(info.digest, tag)
        for tag, digest in sorted(digests.items()):
            if digest in protected:
                outcome.kept.append(f"{where}:{tag} (same digest as tag {protected[digest]})")
        for digest in sorted(set(digests.values()) - set(protected)):
            registry.delete_manifest(where.host, where.repository, digest)
            outcome.deleted += [f"{where}:{t}" for t, d in sorted(digests.items()) if d == digest]
    return outcome


def run(ctx: JobContext, clock: Any = time.time) -> RetryIn | None:
    """Periodic job: work through pending cleanup requests, each with its own backoff.

    Returns when the earliest request still pending is due again (None: nothing pending)."""
    registry: TagRegistry | None = ctx.adapters.get("registry")
    if registry is None:
        return None
    now = float(clock())
    due_in: list[float] = []
    for preview in ctx.store.pending_tag_cleanups():
        job = preview.extra[TAG_CLEANUP_KEY]
        if now < job.get("next_at", 0):
            due_in.append(job["next_at"] - now)
            continue
        repo = ctx.config.repository(preview.repo)
        if preview.allowed or repo is None:
            # Wanted again (reopened, relabelled) or no longer configured: leave tags alone.
            _record(ctx, preview, {**job, "pending": False, "cancelled": True})
            continue
        attempts = int(job.get("attempts", 0)) + 1
        try:
            outcome = clean_pr_tags(registry, repo, preview.number, ctx.adapters.get("ghcr"))
        except PreviewdError as err:
            give_up = isinstance(err, PermanentError) or attempts >= MAX_ATTEMPTS
            retry_after = err.retry_after if isinstance(err, TransientError) else None
            log.warning("%s#%d: tag cleanup failed%s: %s", preview.repo, preview.number,
                        "; giving up" if give_up else "; will retry", err.diagnostics())
            delay = backoff_delay(attempts, retry_after, first=FIRST_RETRY, cap=MAX_RETRY)
            _record(ctx, preview, {**job, "pending": not give_up, "attempts": attempts,
                                   "error": err.diagnostics(), "next_at": now + delay})
            if not give_up:
                due_in.append(delay)
            continue
        for kept in outcome.kept:
            log.warning("%s#%d: kept %s", preview.repo, preview.number, kept)
        log.info("%s#%d: deleted %d tag(s)", preview.repo, preview.number, len(outcome.deleted))
        _record(ctx, preview, {"pending": False, "attempts": attempts, "deleted": outcome.deleted,
                               "kept": outcome.kept})
    return RetryIn(min(due_in)) if due_in else None


def _record(ctx: JobContext, preview: Preview, job: dict[str, Any]) -> None:
    with ctx.store.transaction() as conn:
        current = ctx.store.get_preview(preview.repo, preview.number, conn)
        if current is not None:
            ctx.store.put_preview(conn, replace(current, extra={**current.extra, TAG_CLEANUP_KEY: job}))
