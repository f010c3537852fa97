"""The single worker: drains stored events, then converges GitOps. Serial by design, so every
preview is changed by one writer; batching many events into one commit keeps bursts cheap."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from previewd.errors import PermanentError, TransientError
from previewd.jobs.context import JobContext
from previewd.jobs.converge import converge
from previewd.jobs.intake import HANDLERS, Changed, decode
from previewd.runtime.metrics import Metrics

log = logging.getLogger("previewd.worker")

MAX_EVENT_ATTEMPTS = 10


@dataclass
class Periodic:
    """A job run every ``interval`` seconds by the worker (resync, image re-checks ...)."""

    name: str
    interval: float
    run: Callable[[JobContext], Changed | None]  # returned changes are told to the observers
    next_at: float = 0.0


@dataclass
class Worker:
    ctx: JobContext
    metrics: Metrics
    periodic: list[Periodic] = field(default_factory=list)
    backoff: float = 0.0
    healthy: bool = True
    last_error: str | None = None
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
        return handled

    def _notify(self, changed: Changed) -> None:
        for before, after in changed:
            for observer in self.ctx.observers:
                try:
                    observer.preview_changed(before, after)
                except Exception:  # feedback must never block the pipeline
                    log.exception("observer %s failed", type(observer).__name__)

    def converge_once(self) -> None:
        result = converge(self.ctx.config, self.ctx.store, self.ctx.workspace, self.ctx.images)
        if result.commit:
            self.metrics.commits.inc()
        for after in result.changed + result.held:
            self._notify([(None, after)])

    def run_periodic(self, now: float) -> None:
        for job in self.periodic:
            if now >= job.next_at:
                job.next_at = now + job.interval
                try:
                    changed = job.run(self.ctx)
                    if changed:
                        self._notify(changed)
                except Exception:  # a failing periodic job must not stop the worker
                    log.exception("periodic job %s failed", job.name)

    def step(self) -> None:
        """One pass: events, periodic jobs, then one GitOps convergence."""
        self.process_events()
        self.run_periodic(time.monotonic())
        try:
            self.converge_once()
        except TransientError as err:
            self.metrics.push_failures.inc()
            self.backoff = min(max(self.backoff * 2, 0.5), 30.0)
            self.healthy, self.last_error = False, err.diagnostics()
            log.warning("GitOps write failed, retrying in %.1fs: %s", self.backoff, err.diagnostics())
            return
        self.backoff, self.healthy, self.last_error = 0.0, True, None

    async def run(self, stop: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        self._wake.set()
        while not stop.is_set():
            self._wake.clear()
            try:
                await asyncio.to_thread(self.step)
            except Exception:  # outermost boundary: the worker must outlive any bug
                log.exception("worker step failed")
                self.backoff = min(max(self.backoff * 2, 0.5), 30.0)
            timeout = self.backoff or 1.0
            if self._wake.is_set() and not self.backoff:
                continue  # events arrived while we worked: they go into the next commit now
            wake = asyncio.ensure_future(self._wake.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({wake, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for fut in (wake, stopped):
                fut.cancel()
