"""Lint a deploy bundle: kustomization present, only local references, builds in the sandbox,
passes the contract. Only the documents the build outputs are parsed."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from previewd.adapters import kustomize
from previewd.adapters.scm.tarball import MAX_FILE_BYTES, MAX_SUBTREE_BYTES, MAX_TREE_FILES
from previewd.core.lint import Finding, check_documents
from previewd.errors import PermanentError

MISSING_KUSTOMIZATION = Finding("kustomization.yaml", "-", "kustomization", "kustomization.yaml is missing")


def lint_bundle(path: Path) -> list[Finding]:
    """Every finding for the bundle directory at ``path`` (empty when clean). The build sees a
    bounded copy of the bundle, never ``path`` itself."""
    if not (path / "kustomization.yaml").is_file():  # before copying anything
        return [MISSING_KUSTOMIZATION]
    with tempfile.TemporaryDirectory(prefix="previewd-lint-") as tmp:
        stage = Path(tmp)
        try:
            copy_bundle(path, stage / kustomize.STAGED_BUNDLE)
        except PermanentError as err:
            return [Finding("-", "-", "bundle-size", str(err))]
        return lint_staged(stage)


def lint_staged(stage: Path) -> list[Finding]:
    """Findings for the bundle staged at ``stage/in`` (see ``kustomize.build``)."""
    bundle = stage / kustomize.STAGED_BUNDLE
    if not (bundle / "kustomization.yaml").is_file():
        return [MISSING_KUSTOMIZATION]
    refused = kustomize.non_local_references(bundle)
    if refused:
        # Refused before building: a preview bundle is self-contained at the PR's head commit.
        return [Finding(file, "-", "no-remote-resources", f"{why}; vendor it into the bundle"
                        if why.startswith("non-local") else f"cannot be checked: {why}")
                for file, why in refused]
    try:
        docs = kustomize.build(stage)
    except PermanentError as err:
        return [Finding("kustomization.yaml", "-", "builds", str(err))]
    return check_documents(docs)


def copy_bundle(source: Path, dest: Path) -> None:
    """Copy the regular files and directories under ``source`` to ``dest`` within the same limits
    as an extracted tarball; symbolic links are copied only when they stay inside ``source``."""
    root = source.resolve()
    count = total = 0
    for here, dirs, files in os.walk(root):
        rel = Path(here).relative_to(root)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files + [d for d in dirs if (Path(here) / d).is_symlink()]:
            item = Path(here) / name
            count += 1
            if count > MAX_TREE_FILES:
                raise PermanentError(f"the bundle has more than {MAX_TREE_FILES} entries")
            if item.is_symlink():
                if not item.resolve().is_relative_to(root):
                    continue  # Kustomize then reports the missing file; nothing outside is copied
                (dest / rel / name).symlink_to(os.readlink(item))
                continue
            if not item.is_file():
                continue
            size = item.stat().st_size
            total += size
            if size > MAX_FILE_BYTES or total > MAX_SUBTREE_BYTES:
                raise PermanentError(f"{rel / name} makes the bundle larger than previewd accepts "
                                     f"({MAX_FILE_BYTES} bytes a file, {MAX_SUBTREE_BYTES} in all)")
            shutil.copyfile(item, dest / rel / name)
