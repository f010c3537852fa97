"""GitOps working clones built from ``gitops``-shaped config sections (previews, releases)."""

from __future__ import annotations

from pathlib import Path

from previewd.adapters.git import GitCredentials, GitIdentity, GitWorkspace
from previewd.config import GitopsConfig


def workspace_for(g: GitopsConfig) -> GitWorkspace:
    """A GitOps working clone as a ``gitops``-shaped config section describes it."""
    return GitWorkspace(
        url=g.url,
        branch=g.branch,
        workdir=Path(g.workdir),
        identity=GitIdentity(g.author_name, g.author_email),
        credentials=GitCredentials(g.username, g.password.get_secret_value() if g.password else None),
        push_attempts=g.push_attempts,
    )
