"""Bundle check before deploy: lint the deploy bundle at the PR's head SHA, fetched via the API.

An ``ImageResolver`` in front of the configured one: a failing bundle resolves as ``failed``
(the preview is not deployed, the findings go to the sticky comment); a download that fails
resolves as "not ready yet" and is retried with a backoff, never as a pass.

Checks run in a small pool of their own threads, each check in its own bounded process
(``bundle_check_run``), never on the worker loop: while one PR's check runs, the worker keeps
converging every other PR. Each start is recorded per head SHA before the check runs, so a check
that keeps killing previewd fails after ``MAX_CHECK_STARTS`` instead of restarting forever.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from previewd.adapters.scm.github import GitHubScm
from previewd.adapters.scm.github_http import NotFound
from previewd.adapters.store.github_state import GithubState
from previewd.config import RepositoryConfig
from previewd.core.backoff import backoff_delay
from previewd.core.lint import Finding
from previewd.core.models import Preview
from previewd.core.ports import ImageResolution, ImageResolver
from previewd.errors import PermanentError, TransientError
from previewd.jobs.bundle_check_run import run_check

log = logging.getLogger("previewd.bundle_check")

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 300.0
CHECK_WORKERS = 2  # checks running at once (each is a bounded process)
MAX_CHECK_STARTS = 3  # starts of one SHA's check without a verdict before it counts as failed


class CheckPool:
    """A fixed number of daemon threads running submitted calls (daemon: a hung check never
    holds up previewd's exit, and its process dies with previewd)."""

    def __init__(self, workers: int) -> None:
        self._queue: queue.Queue[tuple[Callable[[], list[str]], Future[list[str]]]] = queue.Queue()
        for n in range(workers):
            threading.Thread(target=self._run, name=f"bundle-check-{n}", daemon=True).start()

    def submit(self, call: Callable[[], list[str]]) -> Future[list[str]]:
        future: Future[list[str]] = Future()
        self._queue.put((call, future))
        return future

    def _run(self) -> None:
        while True:
            call, future = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as err:  # handed to the worker, which classifies it
                future.set_exception(err)


class BundleCheckResolver:
    def __init__(self, inner: ImageResolver, scm: GitHubScm, state: GithubState,
                 clock: Callable[[], float] = time.monotonic, workers: int = CHECK_WORKERS) -> None:
        self.inner, self.scm, self.state, self.clock = inner, scm, state, clock
        self._retry: dict[tuple[str, str], tuple[float, int]] = {}  # (repo, sha) -> (at, failures)
        self._running: dict[tuple[str, str], Future[list[str]]] = {}
        self._pool = CheckPool(workers)

    def resolve(self, repo: RepositoryConfig, preview: Preview) -> ImageResolution:
        sha = preview.head_sha
        if not sha:
            return self.inner.resolve(repo, preview)
        verdict = self.state.bundle_verdict(repo.name, sha)
        if verdict is None:
            waiting = self._progress(repo, preview, sha)
            if waiting is not None:
                return waiting
            verdict = self.state.bundle_verdict(repo.name, sha)
        if verdict is not None and not verdict[0]:
            return ImageResolution(ready=False, failed=True,
                                   missing=f"deploy bundle at {sha[:12]} failed {len(verdict[1])} check(s)")
        return self.inner.resolve(repo, preview)

    def wait_idle(self, timeout: float) -> None:
        """Wait until every check started so far has finished (at most ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        for future in list(self._running.values()):
            try:
                future.exception(timeout=max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                return

    def _progress(self, repo: RepositoryConfig, preview: Preview, sha: str) -> ImageResolution | None:
        """Start, or collect, the check of ``sha``; None once its verdict is stored."""
        key = (repo.key, sha)
        future = self._running.get(key)
        if future is None:
            at, _failures = self._retry.get(key, (0.0, 0))
            if self.clock() < at:
                return _retrying(sha)
            try:
                # One API request, on the worker thread (the API client is not shared with the
                # pool); the download and the check run on the pool.
                location = self.scm.tarball_location(repo.name, sha)
            except (NotFound, TransientError) as err:  # the commit may not be visible yet: retry, never pass
                return self._back_off(key, preview, TransientError(err.diagnostics()))
            except PermanentError as err:
                self.state.save_verdict(repo.name, sha, False, [str(Finding("-", "-", "download", err.diagnostics()))])
                return None
            started = self.state.start_check(repo.name, sha)
            if started > MAX_CHECK_STARTS:
                log.warning("%s#%d: the bundle check of %s never finished in %d starts; failing it",
                            repo.name, preview.number, sha[:12], MAX_CHECK_STARTS)
                self.state.save_verdict(repo.name, sha, False, [str(Finding(
                    "-", "-", "check-budget",
                    f"the bundle check was started {MAX_CHECK_STARTS} times and never finished"))])
                return None
            self._running[key] = self._pool.submit(lambda: self._check(repo, sha, location))
            return _checking(sha)
        if not future.done():
            return _checking(sha)
        del self._running[key]
        try:
            findings = future.result()
        except Exception as err:  # TransientError, or a bug: neither is a verdict
            self.state.forget_verdict(repo.name, sha)  # a failed download is not a crash: no start counted
            return self._back_off(key, preview, err)
        self._retry.pop(key, None)
        self.state.save_verdict(repo.name, sha, not findings, findings)
        return None

    def _back_off(self, key: tuple[str, str], preview: Preview, err: Exception) -> ImageResolution:
        failures = self._retry.get(key, (0.0, 0))[1] + 1
        retry_after = err.retry_after if isinstance(err, TransientError) else None
        delay = backoff_delay(failures, retry_after, first=FIRST_BACKOFF, cap=MAX_BACKOFF)
        self._retry[key] = (self.clock() + delay, failures)
        why = err.diagnostics() if isinstance(err, TransientError) else repr(err)
        log.warning("%s#%d: bundle download failed, retry in %.0fs: %s", preview.repo, preview.number, delay, why)
        return _retrying(key[1])

    def _check(self, repo: RepositoryConfig, sha: str, location: str) -> list[str]:
        """Runs on a pool thread: download (bounded bytes and time), then the check process."""
        what = f"{repo.name}@{sha[:12]}"
        with tempfile.TemporaryDirectory(prefix="previewd-bundle-") as tmp:
            try:
                archive = self.scm.download_archive(location, Path(tmp), what)
            except PermanentError as err:  # e.g. larger than previewd accepts
                return [str(Finding("-", "-", "download", err.diagnostics()))]
            return run_check(archive, repo.deploy.path, what)


def _checking(sha: str) -> ImageResolution:
    missing = f"the deploy bundle check at {sha[:12]} (running)"
    return ImageResolution(ready=False, missing=missing, wait={"missing": missing})


def _retrying(sha: str) -> ImageResolution:
    missing = f"the deploy bundle at {sha[:12]} (download retrying)"
    return ImageResolution(ready=False, missing=missing, wait={"missing": missing})
