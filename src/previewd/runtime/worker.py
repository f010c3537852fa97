"""The single worker: drains stored events, then converges GitOps. Serial by design, so every
preview is changed by one writer; batching many events into one commit keeps bursts cheap.

Idle, it sleeps until the next periodic job is due (at most ``MAX_IDLE`` seconds, so a missed
wake still recovers); a stored event wakes it at once. Drain-style jobs (feedback, ChatOps
commands, queued release pushes, tag cleanup) run on the pass after any activity (events
handled, previews changed) and otherwise only when their own interval or retry comes due.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from previewd.config.services import UNREADY_AFTER
from previewd.core.backoff import backoff_delay
from previewd.errors import PermanentError, PreviewdError, TransientError
from previewd.jobs.context import Changed, JobContext, RetryIn
from previewd.jobs.converge import converge
from previewd.jobs.intake import HANDLERS, decode
from previewd.runtime.metrics import Metrics

log = logging.getLogger("previewd.worker")

MAX_EVENT_ATTEMPTS = 10
MAX_IDLE = 5.0  # the longest idle sleep
WAITING_POLL = 1.0  # idle sleep while previews wait for images (their checks back off themselves)
FIRST_BACKOFF = 0.5  # after a failed GitOps write or worker step
MAX_BACKOFF = 30.0


@dataclass
class Periodic:
    """A job run every ``interval`` seconds by the worker (resync, image re-checks ...).

    With ``on_activity`` it also runs on the pass after events were handled or previews
    changed; its ``interval`` is then only the longest gap while idle. A job returning
    ``RetryIn`` runs again after that many seconds if that is sooner than its interval."""

    name: str
    interval: float
    run: Callable[[JobContext], Changed | RetryIn | None]  # returned changes are told to the observers
    on_activity: bool = False
    next_at: float = 0.0
    seen_activity: int = -1  # the worker's ``activity`` when this job last ran


@dataclass
class Worker:
    ctx: JobContext
    metrics: Metrics
    periodic: list[Periodic] = field(default_factory=list)
    backoff: float = 0.0
    failures: int = 0  # consecutive failed passes, for the backoff
    healthy: bool = True
    last_error: str | None = None
    failing_since: float | None = None  # monotonic time of the first failed write in a row
    unready_after: float = UNREADY_AFTER.total_seconds()  # seconds (gitops.unready_after)
    waiting: bool = False  # the last convergence held previews back for their images
    activity: int = 0  # bumped whenever events were handled or previews changed
    _wake: asyncio.Event | None = None

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def process_events(self) -> int:
        """Apply every pending event to the store; returns how many were handled."""
        handled = 0
        for event in self.ctx.store.pending_events():
            handler = HANDLERS.get((event.source, event.kind))
            try:
                changed: Changed = []
                with self.ctx.store.transaction() as conn:
                    if handler is not None:
                        changed = handler(self.ctx, conn, decode(event.body))
                    self.ctx.store.finish_event(conn, event.id)
                self._notify(changed)
            except (PermanentError, ValueError) as err:
                log.warning("event %s (%s) rejected: %s", event.delivery, event.kind, err)
                self.ctx.store.fail_event(event.id, str(err), give_up=True)
            except Exception as err:  # outermost boundary: classify, keep the event, retry
                give_up = event.attempts + 1 >= MAX_EVENT_ATTEMPTS
                log.exception("event %s (%s) failed%s", event.delivery, event.kind,
                              "; giving up" if give_up else "; will retry")
                self.ctx.store.fail_event(event.id, repr(err), give_up=give_up)
            handled += 1
        if handled:
            self.activity += 1
        return handled

    def _notify(self, changed: Changed) -> None:
        if changed:
            self.activity += 1
        for before, after in changed:
            for observer in self.ctx.observers:
                try:
                    observer.preview_changed(before, after)
                except Exception:  # feedback must never block the pipeline
                    log.exception("observer %s failed", type(observer).__name__)

    def converge_once(self) -> None:
        result = converge(self.ctx.config, self.ctx.store, self.ctx.workspace, self.ctx.images,
                          self.ctx.changed_files)
        self.waiting = result.waiting > 0
        if result.commit:
            self.metrics.commits.inc()
        for after in result.changed + result.held:
            self._notify([(None, after)])

    def _owed(self, job: Periodic) -> bool:
        """An activity-driven job that has not run since the last activity."""
        return job.on_activity and job.seen_activity != self.activity

    def run_periodic(self, now: float) -> None:
        for job in self.periodic:
            if now < job.next_at and not self._owed(job):
                continue
            job.next_at = now + job.interval
            outcome: Changed | RetryIn | None = None
            try:
                outcome = job.run(self.ctx)
            except Exception:  # a failing periodic job must not stop the worker
                log.exception("periodic job %s failed", job.name)
            if isinstance(outcome, RetryIn):
                job.next_at = min(job.next_at, now + outcome.seconds)
            elif outcome:
                self._notify(outcome)  # later drain-style jobs publish these in this same pass
            job.seen_activity = self.activity

    def step(self) -> None:
        """One pass: events, periodic jobs, then one GitOps convergence."""
        self.process_events()
        self.run_periodic(time.monotonic())
        try:
            self.converge_once()
        except Exception as err:  # any failure of the write keeps the work queued and counts
            why = err.diagnostics() if isinstance(err, PreviewdError) else repr(err)
            self.metrics.push_failures.inc()
            self._back_off()
            self.healthy, self.last_error = False, why
            if self.failing_since is None:
                self.failing_since = time.monotonic()
            if isinstance(err, TransientError):
                log.warning("GitOps write failed, retrying in %.1fs: %s", self.backoff, why)
            else:
                log.exception("GitOps write failed, retrying in %.1fs", self.backoff)
            return
        self.backoff, self.failures, self.healthy, self.last_error = 0.0, 0, True, None
        self.failing_since = None

    def not_ready_reason(self, now: float) -> str | None:
        """Why the worker is not ready: GitOps writes failing for ``unready_after`` or longer."""
        if self.failing_since is None or now - self.failing_since < self.unready_after:
            return None
        return (f"GitOps writes have failed for {now - self.failing_since:.0f}s (limit "
                f"{self.unready_after:.0f}s); last error: {self.last_error}")

    def _back_off(self) -> None:
        self.failures += 1
        self.backoff = backoff_delay(self.failures, first=FIRST_BACKOFF, cap=MAX_BACKOFF)

    def idle_timeout(self, now: float) -> float:
        """How long to sleep when nothing wakes the worker: until the next periodic job is due."""
        if self.backoff:
            return self.backoff
        due = min((job.next_at for job in self.periodic), default=now + MAX_IDLE)
        return min(max(due - now, 0.0), WAITING_POLL if self.waiting else MAX_IDLE)

    async def run(self, stop: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        self._wake.set()
        while not stop.is_set():
            self._wake.clear()
            try:
                await asyncio.to_thread(self.step)
            except Exception:  # outermost boundary: the worker must outlive any bug
                log.exception("worker step failed")
                self._back_off()
            if (self._wake.is_set() or any(map(self._owed, self.periodic))) and not self.backoff:
                # Events arrived while we worked, or this pass changed previews: the next pass
                # commits them and publishes their feedback now.
                continue
            timeout = self.idle_timeout(time.monotonic())
            wake = asyncio.ensure_future(self._wake.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({wake, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for fut in (wake, stopped):
                fut.cancel()
