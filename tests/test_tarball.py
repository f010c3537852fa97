"""Extracting an attacker-controlled repository tarball: nothing lands outside the target."""

from __future__ import annotations

import io
import itertools
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from previewd.adapters.scm import tarball
from previewd.adapters.scm.tarball import MAX_FILE_BYTES, extract_single_tree, extract_subtree
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


class LazyTarball(io.RawIOBase):
    """A .tar.gz produced while it is read: one member per name in ``names`` (endless if they are), each ``size``
    bytes of zeros, under one top directory. ``produced`` counts the members made so far."""

    def __init__(self, names: Iterator[str], size: int = 0) -> None:
        self.names, self.size, self.produced = names, size, 0
        self._gzip = zlib.compressobj(1, zlib.DEFLATED, 31)
        self._buffer = bytearray()
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, out: Any) -> int:
        while len(self._buffer) < len(out) and not self._done:
            raw = self._next()
            self._buffer += self._gzip.compress(raw)
            if self._done:
                self._buffer += self._gzip.flush()
        n = min(len(out), len(self._buffer))
        out[:n] = self._buffer[:n]
        del self._buffer[:n]
        return n

    def _next(self) -> bytes:
        name = next(self.names, None)
        if name is None:
            self._done = True
            return b"\0" * 1024  # the end-of-archive marker
        self.produced += 1
        info = tarfile.TarInfo(name)
        info.size = self.size if not name.endswith("/") else 0
        info.type = tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE
        body = b"\0" * info.size + b"\0" * (-info.size % 512)
        return info.tobuf(format=tarfile.GNU_FORMAT) + body


def endless(prefix: str) -> Iterator[str]:
    return (f"{prefix}{n}.yaml" for n in itertools.count())


def test_entry_limit_stops_the_stream_at_the_first_entry_over(tmp_path: Path, monkeypatch: Any) -> None:
    """4 M empty entries took 106 s and 1.8 GB when the limit was checked after getmembers();
    streamed, the limit fires at the entry that crosses it, though this archive never ends
    (the limit is lowered only to keep the test cheap)."""
    monkeypatch.setattr(tarball, "MAX_TREE_FILES", 5000)
    stream = LazyTarball(endless("acme-shop-abc/other/"))
    with pytest.raises(PermanentError, match="more than 5000 entries"):
        extract_subtree(stream, "deploy/preview", tmp_path / "in", "acme/shop@abc")
    assert stream.produced < 5000 + 5000  # what gzip's read-ahead had decompressed beyond it
    assert list((tmp_path / "in").iterdir()) == []


def test_total_bytes_limit_counts_members_outside_the_bundle(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(tarball, "MAX_TREE_BYTES", 10 * 1024 * 1024)
    stream = LazyTarball(endless("acme-shop-abc/assets/"), size=1024 * 1024)
    with pytest.raises(PermanentError, match="unpacks to more than"):
        extract_subtree(stream, "deploy/preview", tmp_path / "in", "acme/shop@abc")
    assert stream.produced <= 11 + 2


def test_per_file_limit_refuses_a_big_bundle_file(tmp_path: Path) -> None:
    names = iter(["acme-shop-abc/", "acme-shop-abc/deploy/preview/big.yaml"])
    stream = LazyTarball(names, size=MAX_FILE_BYTES + 1)
    with pytest.raises(PermanentError, match="larger than"):
        extract_subtree(stream, "deploy/preview", tmp_path / "in", "acme/shop@abc")
    assert not (tmp_path / "in" / "big.yaml").exists()


def test_only_the_bundle_directory_is_extracted(tmp_path: Path) -> None:
    src = archive(tmp_path, [("acme-shop-abc/", None, None),
                             ("acme-shop-abc/README.md", b"readme", None),
                             ("acme-shop-abc/deploy/preview-old/x.yaml", b"old", None),
                             ("acme-shop-abc/deploy/preview/kustomization.yaml", b"resources: []\n", None),
                             ("acme-shop-abc/deploy/preview/base/web.yaml", b"kind: X\n", None),
                             ("acme-shop-abc/deploy/preview/link", None, "../../README.md")])
    with pytest.raises(PermanentError, match="unsafe member"):  # a link out of the bundle
        extract_subtree(src, "deploy/preview", tmp_path / "bad", "acme/shop@abc")
    src = archive(tmp_path, [("acme-shop-abc/", None, None),
                             ("acme-shop-abc/README.md", b"readme", None),
                             ("acme-shop-abc/deploy/preview-old/x.yaml", b"old", None),
                             ("acme-shop-abc/deploy/preview/kustomization.yaml", b"resources: []\n", None),
                             ("acme-shop-abc/deploy/preview/base/web.yaml", b"kind: X\n", None)])
    dest = extract_subtree(src, "deploy/preview", tmp_path / "in", "acme/shop@abc")
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "base", "base/web.yaml", "kustomization.yaml"]


def test_subtree_limit_counts_only_the_bundle(tmp_path: Path, monkeypatch: Any) -> None:
    """The bundle as a whole is bounded (``MAX_SUBTREE_BYTES``), not only each file; files outside
    it do not count (the limit is lowered to keep the test cheap)."""
    monkeypatch.setattr(tarball, "MAX_SUBTREE_BYTES", 3000)
    outside = [(f"acme-shop-abc/assets/{n}.bin", b"x" * 1000, None) for n in range(10)]
    inside = [(f"acme-shop-abc/deploy/preview/{n}.yaml", b"x" * 1000, None) for n in range(3)]
    src = archive(tmp_path, [("acme-shop-abc/", None, None), *outside, *inside])
    assert len(list(extract_subtree(src, "deploy/preview", tmp_path / "ok", "acme/shop@abc").iterdir())) == 3
    src = archive(tmp_path, [("acme-shop-abc/", None, None), *inside,
                             ("acme-shop-abc/deploy/preview/one-more.yaml", b"x", None)])
    with pytest.raises(PermanentError, match="deploy/preview unpacks to more than 3000 bytes"):
        extract_subtree(src, "deploy/preview", tmp_path / "in", "acme/shop@abc")
    assert not (tmp_path / "in" / "one-more.yaml").exists()
