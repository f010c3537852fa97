"""Safe extraction of a repository tarball (attacker-controlled content): bounded, data-only."""

from __future__ import annotations

import tarfile
from pathlib import Path

from previewd.errors import PermanentError, TransientError

MAX_TREE_BYTES = 1024 * 1024 * 1024  # unpacked: a bound against decompression bombs
MAX_TREE_FILES = 200_000


def extract_single_tree(archive: Path, dest: Path, what: str) -> Path:
    """Extract ``archive`` into ``dest`` (tarfile's ``data`` filter: no links out, no devices,
    no absolute paths) and return its one top directory, as GitHub's tarballs have."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            if len(members) > MAX_TREE_FILES or sum(m.size for m in members) > MAX_TREE_BYTES:
                raise PermanentError(f"tarball of {what} unpacks larger than previewd accepts")
            tar.extractall(dest, members=members, filter="data")
    except tarfile.FilterError as err:  # hostile content: retrying will not change it
        raise PermanentError(f"tarball of {what} has an unsafe member: {err}") from None
    except (tarfile.TarError, OSError, EOFError) as err:
        raise TransientError(f"tarball of {what} is unreadable: {err}") from None
    roots = [p for p in dest.iterdir() if p.is_dir()]
    if len(roots) != 1:
        raise PermanentError(f"tarball of {what}: expected one top directory")
    return roots[0]
