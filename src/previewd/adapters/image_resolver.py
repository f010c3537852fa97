"""Preview image gating against real registries: the ``ImageResolver`` port.

For each configured image, the PR head's tag is resolved with a manifest HEAD; the digest the
registry reports (an index digest for multi-arch images) is what gets pinned. While an image
is missing, checks back off (1 s, 2 s, 4 s ... 60 s) using the wait record the converge job
keeps in ``Preview.extra[IMAGE_WAIT_KEY]``; a push notification resets the schedule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from previewd.adapters.registry import ManifestInfo
from previewd.config import RepositoryConfig
from previewd.core.backoff import backoff_delay
from previewd.core.models import IMAGE_WAIT_KEY, Preview
from previewd.core.ports import Clock, ImageResolution
from previewd.errors import PreviewdError, TransientError
from previewd.images import locate, pinned, render_tag

log = logging.getLogger("previewd.images")

FIRST_RECHECK = 1.0
MAX_RECHECK = 60.0
# Distribution sends the push notification before the tag is linked, so right after a hint
# the tag can still be 404 for a few milliseconds: re-ask briefly instead of backing off.
HINT_RETRIES = (0.02, 0.05, 0.1, 0.2, 0.4)


class ManifestReader(Protocol):
    def head_manifest(self, host: str, repository: str, reference: str) -> ManifestInfo | None: ...


class RegistryImageResolver:
    """Resolves every image of a repository for a preview's head SHA, or says what is missing."""

    def __init__(self, registry: ManifestReader, clock: Clock = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._registry = registry
        self._clock = clock
        self._sleep = sleep

    def resolve(self, repo: RepositoryConfig, preview: Preview) -> ImageResolution:
        if not repo.images or preview.pr is None:
            return ImageResolution(ready=True)
        sha, now = preview.pr.head_sha, self._clock()
        previous: dict[str, Any] = preview.extra.get(IMAGE_WAIT_KEY) or {}
        if previous.get("sha") != sha:
            previous = {}  # a new head: a fresh wait window
        if previous and now < float(previous.get("next_check", 0)):
            # Not due yet: answer from the record without touching the registry.
            return ImageResolution(ready=False, missing=previous.get("missing"), wait=previous)
        pinned_refs: dict[str, str] = {}
        missing: str | None = None
        error: str | None = None
        retry_after: float | None = None
        for image in repo.images:
            where = locate(image.source)
            tag = render_tag(image.tag, preview.number, sha)
            try:
                info = self._registry.head_manifest(where.host, where.repository, tag)
                for pause in HINT_RETRIES if info is None and previous.get("hinted") else ():
                    self._sleep(pause)
                    info = self._registry.head_manifest(where.host, where.repository, tag)
                    if info is not None:
                        break
            except PreviewdError as err:
                missing, error = f"{image.source}:{tag}", err.diagnostics()
                retry_after = err.retry_after if isinstance(err, TransientError) else None
                break
            if info is None:
                missing = f"{image.source}:{tag}"
                break
            pinned_refs[image.name] = pinned(image.source, info.digest)
        if missing is None:
            return ImageResolution(ready=True, images=pinned_refs)
        since = float(previous.get("since", now))
        attempts = int(previous.get("attempts", 0)) + 1
        deadline = since + repo.image_wait_timeout.total_seconds()
        wait: dict[str, Any] = {"sha": sha, "since": since, "attempts": attempts, "missing": missing}
        if error:
            wait["error"] = error
        if now >= deadline:
            wait["failed"] = True
            log.warning("%s#%d: gave up waiting for %s", repo.name, preview.number, missing)
            return ImageResolution(ready=False, missing=missing, failed=True, wait=wait)
        # Never sleep past the deadline, so the timeout is reported when it happens.
        delay = backoff_delay(attempts, retry_after, first=FIRST_RECHECK, cap=MAX_RECHECK)
        wait["next_check"] = min(now + delay, deadline)
        if attempts == 1 or error:
            log.info("%s#%d: waiting for %s%s", repo.name, preview.number, missing,
                     f" ({error})" if error else "")
        return ImageResolution(ready=False, missing=missing, wait=wait)
