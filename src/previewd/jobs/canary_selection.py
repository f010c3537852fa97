"""Which services of a preview run as canaries: the PR's changed files against ``services``."""

from __future__ import annotations

import logging

from previewd.changed_files import CanaryChoice, changed_services
from previewd.config import RepositoryConfig
from previewd.core.models import Preview
from previewd.core.ports import ChangedFiles
from previewd.errors import PermanentError

log = logging.getLogger("previewd.canary")


def choose(repo: RepositoryConfig, preview: Preview, files: ChangedFiles | None) -> list[CanaryChoice] | None:
    """The canaries of ``preview``; None when the repository maps no services (every routed
    service is a canary). Without API access no service is. Raises TransientError to retry."""
    canary = repo.canary
    if canary is None or canary.services is None:
        return None
    if files is None:
        log.warning("%s#%d: canary.services needs github.auth to read changed files; no canary",
                    repo.name, preview.number)
        return []
    try:
        paths = files.pull_files(repo.name, preview.number)
    except PermanentError as err:
        log.warning("%s#%d: cannot read the changed files (%s); no canary", repo.name, preview.number, err)
        return []
    return changed_services([(s.name, s.paths) for s in canary.services], paths)
