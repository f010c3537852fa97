"""Extracting an attacker-controlled repository tarball: nothing lands outside the target."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from previewd.adapters.scm.tarball import extract_single_tree
from previewd.errors import PermanentError


def archive(tmp: Path, members: list[tuple[str, bytes | None, str | None]]) -> Path:
    path = tmp / "repo.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, content, link in members:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            elif content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


def test_extracts_the_single_top_directory(tmp_path: Path) -> None:
    src = archive(tmp_path, [("acme-shop-abc/", None, None),
                             ("acme-shop-abc/deploy/preview/kustomization.yaml", b"resources: []\n", None)])
    root = extract_single_tree(src, tmp_path / "tree", "acme/shop@abc")
    assert (root / "deploy/preview/kustomization.yaml").read_bytes() == b"resources: []\n"


@pytest.mark.parametrize("member", [
    ("../escape.yaml", b"x", None),
    ("/etc/previewd-owned", b"x", None),
    ("acme-shop-abc/link", None, "/etc/passwd"),
])
def test_hostile_members_are_refused(tmp_path: Path, member: tuple[str, bytes | None, str | None]) -> None:
    src = archive(tmp_path, [("acme-shop-abc/", None, None), member])
    with pytest.raises(PermanentError):
        extract_single_tree(src, tmp_path / "tree", "acme/shop@abc")
    assert not (tmp_path / "escape.yaml").exists()
    assert not Path("/etc/previewd-owned").exists()
