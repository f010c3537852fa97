"""Lint a deploy bundle directory: kustomization present, builds, passes the contract."""

from __future__ import annotations

from pathlib import Path

from previewd.adapters import kustomize
from previewd.core.lint import Finding, check_documents
from previewd.errors import PermanentError


def lint_bundle(path: Path) -> list[Finding]:
    """Every finding for the bundle at ``path`` (empty when clean)."""
    if not (path / "kustomization.yaml").is_file():
        return [Finding("kustomization.yaml", "-", "kustomization", f"{path}/kustomization.yaml is missing")]
    remote = kustomize.remote_references(path)
    if remote:
        # Refused before building: a preview bundle is self-contained at the PR's head commit.
        return [Finding(file, "-", "no-remote-resources", f"remote reference {entry!r}; vendor it into the bundle")
                for file, entry in remote]
    try:
        docs = kustomize.build(path)
    except PermanentError as err:
        return [Finding("kustomization.yaml", "-", "builds", str(err))]
    index = kustomize.source_index(path)
    paired = []
    for doc in docs:
        meta = doc.get("metadata") or {}
        file = index.get((str(doc.get("kind")), str(meta.get("name"))), "kustomization.yaml")
        paired.append((file, doc))
    return check_documents(paired)
