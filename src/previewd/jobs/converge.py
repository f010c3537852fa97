"""Converge the GitOps repository to every preview whose desired content changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from previewd.adapters.git import GitWorkspace
from previewd.adapters.store.sql import Store
from previewd.config import Config
from previewd.core import naming
from previewd.core.models import FileChange, Preview, PreviewState
from previewd.core.planning import change_for, commit_message
from previewd.core.ports import ImageResolver, NoImages
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.errors import TransientError
from previewd.jobs import image_gate, tag_cleanup

log = logging.getLogger("previewd.converge")


@dataclass
class ConvergeResult:
    commit: str | None = None
    changed: list[Preview] = field(default_factory=list)
    waiting: list[Preview] = field(default_factory=list)  # held back: images not pushed yet
    held: list[Preview] = field(default_factory=list)  # waiting records changed this pass


def converge(
    config: Config,
    store: Store,
    workspace: GitWorkspace,
    images: ImageResolver | None = None,
) -> ConvergeResult:
    """Render dirty previews, commit them in one commit, push; then mark them synced.

    A failed push raises and leaves every preview dirty, so the work is retried.
    """
    images = images or NoImages()
    result = ConvergeResult()
    changes: list[FileChange] = []
    synced: list[Preview] = []
    for preview in store.dirty_previews():
        repo = config.repository(preview.repo)
        if repo is None:
            continue  # repository removed from config; the orphan auditor reports it
        directory = naming.preview_dir(config.gitops.path, repo.name, preview.number)
        if preview.allowed and preview.pr is not None:
            try:
                resolution = images.resolve(repo, preview)
            except TransientError as err:  # one preview's registry trouble must not stall the rest
                log.warning("%s#%d: cannot resolve images yet: %s", repo.name, preview.number,
                            err.diagnostics())
                result.waiting.append(preview)
                continue
            if not resolution.ready:
                result.waiting.append(preview)
                held = image_gate.hold(store, preview, resolution)
                if held is not None and resolution.failed:
                    synced.append(held)  # gave up: stop re-checking; the old preview stays
                elif held is not None:
                    result.held.append(held)
                continue
            try:
                files = render_preview(
                    config,
                    repo,
                    PreviewInput(repo.name, preview.number, preview.pr.head_sha,
                                 preview.pr.created_at, resolution.images,
                                 int(preview.extra.get("redeploys", 0))),
                )
            except ValueError as err:
                # One bad preview must not block every other one: record it as failed.
                log.warning("%s#%d: cannot render: %s", repo.name, preview.number, err)
                synced.append(replace(preview, synced_generation=preview.generation,
                                      state=PreviewState.FAILED, extra={"render_error": str(err)}))
                continue
            changes.append(change_for(preview, directory, files))
            synced.append(replace(preview, synced_generation=preview.generation,
                                  state=PreviewState.DEPLOYING, deployed_sha=preview.pr.head_sha,
                                  extra=image_gate.released(preview)))
        else:
            changes.append(change_for(preview, directory, None))
            gone = PreviewState.TORN_DOWN if preview.state == PreviewState.DELETING else preview.state
            synced.append(replace(preview, synced_generation=preview.generation, state=gone,
                                  deployed_sha=None,
                                  extra=tag_cleanup.request(repo, preview, gone)))
    if changes:
        result.commit = workspace.apply(changes, commit_message)
        if result.commit:
            log.info("committed %s (%d preview change(s))", result.commit[:12], len(changes))
    store.mark_synced(synced)
    result.changed = synced
    return result
