"""Converge the GitOps repository to every preview whose desired content changed.

Each committed directory's tree id is kept in the record (``TREE_KEY``), None once removed:
the drift check compares the remote against it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from previewd.adapters.git import GitWorkspace
from previewd.adapters.store.sql import Store
from previewd.config import Config
from previewd.core.canary_feedback import CANARY_KEY, to_record
from previewd.core.manifests import ManifestError, check_directory
from previewd.core.models import RENDER_ERROR_KEY, FileChange, Preview, PreviewState
from previewd.core.planning import change_for, commit_message
from previewd.core.ports import ChangedFiles, ImageResolver
from previewd.core.render.preview import PreviewInput, names_for, render_preview
from previewd.errors import TransientError
from previewd.jobs import canary_selection, image_gate, tag_cleanup

log = logging.getLogger("previewd.converge")

TREE_KEY = "gitops_tree"  # Preview.extra: tree id of the directory as last committed; None: absent
DRIFT_KEY = "gitops_drift"  # Preview.extra: set by the drift check, the next commit restores it


@dataclass
class ConvergeResult:
    commit: str | None = None
    changed: list[Preview] = field(default_factory=list)
    held: list[Preview] = field(default_factory=list)  # waiting records changed this pass
    # Previews still held back (images not ready yet): the worker checks again soon.
    waiting: int = 0


def converge(config: Config, store: Store, workspace: GitWorkspace, images: ImageResolver,
             changed_files: ChangedFiles | None = None) -> ConvergeResult:
    """Render dirty previews, commit them in one commit, push; then mark them synced.

    A failed push raises and leaves every preview dirty, so the work is retried.
    """
    result = ConvergeResult()
    changes: list[FileChange] = []
    synced: list[Preview] = []
    written: dict[int, dict[str, bytes] | None] = {}  # index in ``synced`` -> committed files
    for preview in store.dirty_previews():
        repo = config.repository(preview.repo)
        if repo is None:
            # Removing a repository from config must not mass-delete its previews: the GitOps
            # directory is kept, and the record is marked synced (state unchanged) so it is
            # not picked up again on every pass.
            log.warning("%s#%d: left alone: the repository is no longer configured (its GitOps "
                        "directory is kept)", preview.repo, preview.number)
            synced.append(replace(preview, synced_generation=preview.generation))
            continue
        try:
            directory = names_for(config, repo, preview.number).directory
        except ValueError as err:  # a record an older version stored for PR -1, 0 or 2**31
            log.warning("%s#%d: left alone: %s", preview.repo, preview.number, err)
            synced.append(replace(preview, synced_generation=preview.generation))
            continue
        if preview.allowed and preview.pr is not None:
            try:
                resolution = images.resolve(repo, preview)
            except TransientError as err:  # one preview's registry trouble must not stall the rest
                log.warning("%s#%d: cannot resolve images yet: %s", repo.name, preview.number,
                            err.diagnostics())
                result.waiting += 1
                continue
            if resolution.failed:
                synced.append(image_gate.gave_up(preview, resolution))  # the old preview stays
                continue
            if not resolution.ready:
                result.waiting += 1
                held = image_gate.hold(store, preview, resolution)
                if held is not None:
                    result.held.append(held)
                continue
            try:
                canaries = canary_selection.choose(repo, preview, changed_files)
            except TransientError as err:
                log.warning("%s#%d: cannot read the changed files yet: %s", repo.name, preview.number,
                            err.diagnostics())
                result.waiting += 1
                continue
            try:
                files = render_preview(
                    config,
                    repo,
                    PreviewInput(repo.name, preview.number, preview.pr.head_sha,
                                 preview.pr.created_at, resolution.images,
                                 int(preview.extra.get("redeploys", 0)),
                                 None if canaries is None else tuple(c.service for c in canaries)),
                )
                check_directory(directory, files)  # never commit what Kubernetes would reject
            except (ValueError, ManifestError) as err:
                # One bad preview must not block every other one: record it as failed.
                log.warning("%s#%d: cannot render: %s", repo.name, preview.number, err)
                synced.append(replace(preview, synced_generation=preview.generation,
                                      state=PreviewState.FAILED, extra={RENDER_ERROR_KEY: str(err), DRIFT_KEY: None}))
                continue
            changes.append(_restoring(preview, change_for(preview, directory, files)))
            written[len(synced)] = files
            synced.append(replace(preview, synced_generation=preview.generation,
                                  state=PreviewState.DEPLOYING, deployed_sha=preview.pr.head_sha,
                                  extra=_rendered(preview) | (
                                      {} if canaries is None else {CANARY_KEY: to_record(canaries)})))
        else:
            changes.append(_restoring(preview, change_for(preview, directory, None)))
            written[len(synced)] = None
            gone = PreviewState.TORN_DOWN if preview.state == PreviewState.DELETING else preview.state
            synced.append(replace(preview, synced_generation=preview.generation, state=gone,
                                  deployed_sha=None,
                                  extra=tag_cleanup.request(repo, preview, gone)))
    if changes:
        result.commit = workspace.apply(changes, commit_message)
        if result.commit:
            log.info("committed %s (%d preview change(s))", result.commit[:12], len(changes))
    for at, content in written.items():  # after apply: tree ids use the repository's hash
        tree = workspace.tree_id(content) if content else None
        synced[at] = replace(synced[at], extra={**synced[at].extra, TREE_KEY: tree, DRIFT_KEY: None})
    store.mark_synced(synced)
    result.changed = synced
    return result


def _restoring(preview: Preview, change: FileChange) -> FileChange:
    """``change`` with a message saying it repairs drift, when the drift check asked for it."""
    if not preview.extra.get(DRIFT_KEY):
        return change
    ref, _, _ = change.message.partition(": ")
    what = "remove" if change.files is None else f"restore at {(preview.head_sha or '')[:7]}"
    return replace(change, message=f"{ref}: {what} (changed outside previewd)")


def _rendered(preview: Preview) -> dict[str, Any]:
    """The ``extra`` of a preview that rendered: no image wait, no earlier render error."""
    extra = image_gate.released(preview)
    return {**extra, RENDER_ERROR_KEY: None} if extra.get(RENDER_ERROR_KEY) else extra
