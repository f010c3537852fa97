"""Safe extraction of a repository tarball (attacker-controlled content): streamed, bounded,
data-only. The archive is read once, front to back; the first limit hit stops it."""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath
from typing import IO

from previewd.errors import PermanentError, TransientError

Archive = Path | IO[bytes]  # a file, or a stream read once from the front (never seeked)

MAX_TREE_BYTES = 1024 * 1024 * 1024  # unpacked, every member counted: a bound against decompression bombs
MAX_TREE_FILES = 200_000  # members of the whole archive
MAX_FILE_BYTES = 4 * 1024 * 1024  # one extracted file
MAX_SUBTREE_BYTES = 32 * 1024 * 1024  # everything extracted when only a subdirectory is wanted


def extract_single_tree(archive: Archive, dest: Path, what: str) -> Path:
    """Extract ``archive`` into ``dest`` and return its one top directory, as GitHub's tarballs have."""
    top = _extract(archive, dest, what, None)
    return dest / top


def extract_subtree(archive: Archive, subdir: str, dest: Path, what: str) -> Path:
    """Extract only ``subdir`` of the archive's top directory into ``dest`` (its contents land
    directly in ``dest``); returns ``dest``. Nothing else is written."""
    parts = PurePosixPath(subdir).parts
    if not parts or any(p in ("..", ".", "") for p in parts) or PurePosixPath(subdir).is_absolute():
        raise PermanentError(f"not a path inside the repository: {subdir!r}")
    dest.mkdir(parents=True, exist_ok=True)
    _extract(archive, dest, what, PurePosixPath(*parts))
    return dest


def _extract(archive: Archive, dest: Path, what: str, subdir: PurePosixPath | None) -> str:
    """Stream ``archive``; extract every member (or those under ``top/subdir``, renamed relative
    to it) with tarfile's ``data`` filter (no links out, no devices, no absolute paths)."""
    count = total = extracted = 0
    top: str | None = None
    try:
        with (tarfile.open(archive, "r|gz") if isinstance(archive, Path)
              else tarfile.open(fileobj=archive, mode="r|gz")) as tar:
            for member in tar:
                count += 1
                total += member.size
                if count > MAX_TREE_FILES:
                    raise PermanentError(f"tarball of {what} has more than {MAX_TREE_FILES} entries")
                if total > MAX_TREE_BYTES:
                    raise PermanentError(f"tarball of {what} unpacks to more than {MAX_TREE_BYTES} bytes")
                if member.name.startswith("pax_global_header") or member.type == tarfile.XGLTYPE:
                    continue
                name = PurePosixPath(member.name)
                if not name.parts:
                    continue
                top = top or name.parts[0]
                if name.parts[0] != top:
                    raise PermanentError(f"tarball of {what}: expected one top directory")
                if subdir is not None:
                    rel = name.parts[1:]
                    if rel[:len(subdir.parts)] != subdir.parts or len(rel) == len(subdir.parts):
                        continue
                    member = member.replace(name=str(PurePosixPath(*rel[len(subdir.parts):])), deep=False)
                if member.size > MAX_FILE_BYTES:
                    raise PermanentError(f"tarball of {what}: {member.name[:100]!r} is larger than "
                                         f"{MAX_FILE_BYTES} bytes")
                extracted += member.size
                if subdir is not None and extracted > MAX_SUBTREE_BYTES:
                    raise PermanentError(f"tarball of {what}: {subdir} unpacks to more than {MAX_SUBTREE_BYTES} bytes")
                tar.extract(member, dest, filter="data")
    except tarfile.FilterError as err:  # hostile content: retrying will not change it
        raise PermanentError(f"tarball of {what} has an unsafe member: {err}") from None
    except (tarfile.TarError, OSError, EOFError) as err:
        raise TransientError(f"tarball of {what} is unreadable: {err}") from None
    if top is None or (subdir is None and not (dest / top).is_dir()):
        raise PermanentError(f"tarball of {what}: expected one top directory")
    return top
