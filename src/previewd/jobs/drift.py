"""The drift check: every preview directory in the GitOps remote holds what the store says.

Run by the worker every ``gitops.drift_check_interval``. It fetches, reads the tree id of every
preview directory of every repository in one git run, and compares each with the tree id the
record kept when previewd last committed it (``TREE_KEY``; None: the directory must not exist).
A directory changed, deleted or re-created by hand is marked for a repair: its record's
generation moves, so the convergence right after this job re-renders it and commits every
repair in one commit. Directories that already match are never rewritten.

A record without a tree id (written before previewd kept them) adopts the directory as it finds
it, or is repaired when the directory it deployed is gone. A record of a repository no longer
configured is corrected (torn down) when its directory is gone; its directory is never touched.
A directory no record knows is left alone and logged: a fresh or restored store must never
delete previews.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from previewd import naming
from previewd.core.models import Preview, PreviewState
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.converge import DRIFT_KEY, TREE_KEY

log = logging.getLogger("previewd.drift")

MAX_REPAIRS = 200  # per check: a larger repair waits for the next check (bounded commit size)
_DEPLOYED = (PreviewState.DEPLOYING, PreviewState.READY, PreviewState.DEGRADED, PreviewState.FAILED)


@dataclass
class DriftReport:
    repairs: list[Preview]
    adopted: list[Preview]
    corrected: list[Preview]
    unknown: list[str]  # directories no record knows


def _expects_directory(preview: Preview) -> bool:
    """Whether a record without a tree id says its directory exists."""
    return preview.allowed and preview.deployed_sha is not None and preview.state in _DEPLOYED


def compare(ctx: JobContext) -> DriftReport:
    """Fetch and compare every preview directory with its record (reads only)."""
    ctx.workspace.refresh()
    base = ctx.config.gitops.path
    records = [p for p in ctx.store.list_previews() if not p.dirty]  # dirty: converge is on it
    dirs = {(p.repo, p.number): naming.preview_dir(base, p.repo, p.number) for p in records}
    parents = {d.rpartition("/")[0] for d in dirs.values()}
    parents |= {naming.preview_dir(base, r.name, 0).rpartition("/")[0] for r in ctx.config.repositories}
    actual = {
        f"{parent}/{name}": entry.oid
        for parent, tree in ctx.workspace.trees(sorted(parents)).items() if tree
        for name, entry in tree.items() if entry.is_tree and name.startswith("pr-")
    }
    report = DriftReport([], [], [], sorted(set(actual) - set(dirs.values())))
    for preview in records:
        have = actual.get(dirs[preview.repo, preview.number])
        if ctx.config.repository(preview.repo) is None:
            if have is None and (preview.deployed_sha or preview.extra.get(TREE_KEY)):
                report.corrected.append(preview)
        elif TREE_KEY in preview.extra:
            if have != preview.extra[TREE_KEY]:
                report.repairs.append(preview)
        elif have is not None:
            report.adopted.append(replace(preview, extra={TREE_KEY: have}))
        elif _expects_directory(preview):
            report.repairs.append(preview)
    return report


class DriftCheck:
    """The periodic job: compare, then mark repairs (the next convergence commits them)."""

    def __init__(self) -> None:
        self._unknown: list[str] = []  # the directories no record knows, as last logged

    def __call__(self, ctx: JobContext) -> Changed:
        report = compare(ctx)
        changed = repair(ctx, report)
        if report.unknown and report.unknown != self._unknown:
            log.warning("%d preview directories in GitOps belong to no record and are left alone: %s",
                        len(report.unknown), ", ".join(report.unknown[:5]))
        self._unknown = report.unknown
        return changed


def repair(ctx: JobContext, report: DriftReport) -> Changed:
    """Mark the repairs, adopt and correct records, as ``report`` says (one transaction)."""
    repairs = report.repairs[:MAX_REPAIRS]
    changed: Changed = []
    todo = ([("repair", p) for p in repairs] + [("adopt", p) for p in report.adopted]
            + [("correct", p) for p in report.corrected])
    with ctx.store.transaction() as conn:
        for action, preview in todo:
            current = ctx.store.get_preview(preview.repo, preview.number, conn)
            if current is None or current.generation != preview.generation:
                continue  # changed meanwhile: converge writes it anyway
            if action == "adopt":
                after = replace(current, extra={**current.extra, **preview.extra})
            elif action == "correct":
                after = replace(current, state=PreviewState.TORN_DOWN, deployed_sha=None,
                                extra={**current.extra, TREE_KEY: None})
                changed.append((current, after))
            else:
                after = replace(current, generation=current.generation + 1,
                                extra={**current.extra, DRIFT_KEY: True})
            ctx.store.put_preview(conn, after)
    for preview in repairs:
        log.warning("%s#%d: its GitOps directory was changed outside previewd; restoring it",
                    preview.repo, preview.number)
    for preview in report.corrected:
        log.warning("%s#%d: its GitOps directory is gone and its repository is no longer "
                    "configured; the record now says torn down", preview.repo, preview.number)
    if len(report.repairs) > MAX_REPAIRS:
        log.warning("%d more drifted preview(s) are repaired by the next check",
                    len(report.repairs) - MAX_REPAIRS)
    return changed
