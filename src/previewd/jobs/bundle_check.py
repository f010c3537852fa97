"""Bundle check before deploy: lint the deploy bundle at the PR's head SHA, fetched via the API.

An ``ImageResolver`` in front of the configured one: a failing bundle resolves as ``failed``
(the preview is not deployed, the findings go to the sticky comment); a download that fails
resolves as "not ready yet" and is retried with a backoff, never as a pass.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from previewd.adapters.scm.github import GitHubScm
from previewd.adapters.scm.github_http import NotFound
from previewd.adapters.store.github_state import GithubState
from previewd.config import RepositoryConfig
from previewd.core.backoff import backoff_delay
from previewd.core.models import Preview
from previewd.core.ports import ImageResolution, ImageResolver
from previewd.errors import PermanentError, TransientError
from previewd.jobs.lint_bundle import lint_bundle

log = logging.getLogger("previewd.bundle_check")

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 300.0


class BundleCheckResolver:
    def __init__(self, inner: ImageResolver, scm: GitHubScm, state: GithubState,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inner, self.scm, self.state, self.clock = inner, scm, state, clock
        self._retry: dict[tuple[str, str], tuple[float, int]] = {}  # (repo, sha) -> (at, failures)

    def resolve(self, repo: RepositoryConfig, preview: Preview) -> ImageResolution:
        sha = preview.head_sha
        if not sha:
            return self.inner.resolve(repo, preview)
        verdict = self.state.bundle_verdict(repo.name, sha)
        if verdict is None:
            key = (repo.key, sha)
            at, failures = self._retry.get(key, (0.0, 0))
            if self.clock() < at:
                return _retrying(sha)
            try:
                findings = self._check(repo, sha)
            except TransientError as err:
                delay = backoff_delay(failures + 1, err.retry_after, first=FIRST_BACKOFF, cap=MAX_BACKOFF)
                self._retry[key] = (self.clock() + delay, failures + 1)
                log.warning("%s#%d: bundle download failed, retry in %.0fs: %s", repo.name, preview.number,
                            delay, err.diagnostics())
                return _retrying(sha)
            self._retry.pop(key, None)
            self.state.save_verdict(repo.name, sha, not findings, findings)
            verdict = (not findings, findings)
        if not verdict[0]:
            return ImageResolution(ready=False, failed=True,
                                   missing=f"deploy bundle at {sha[:12]} failed {len(verdict[1])} check(s)")
        return self.inner.resolve(repo, preview)

    def _check(self, repo: RepositoryConfig, sha: str) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="previewd-bundle-") as tmp:
            try:
                root = self.scm.download_tree(repo.name, sha, Path(tmp))
            except NotFound as err:  # the commit may not be visible yet: retry, never pass
                raise TransientError(err.diagnostics()) from None
            except PermanentError as err:  # e.g. larger than previewd accepts
                return [f"download: {err.diagnostics()}"]
            return [str(f) for f in lint_bundle(root / repo.deploy.path)]


def _retrying(sha: str) -> ImageResolution:
    missing = f"the deploy bundle at {sha[:12]} (download retrying)"
    return ImageResolution(ready=False, missing=missing, wait={"missing": missing})
