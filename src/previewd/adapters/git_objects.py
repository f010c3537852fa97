"""Git object ids and tree records computed in-process, exactly as git computes them.

They let the GitOps writer tell which planned directories differ from the remote (and the drift
check compare every preview directory) without writing objects or starting a process per file;
the objects themselves are always written by ``git`` and their ids checked against these.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TREE_MODE = "40000"
FILE_MODE = "100644"
GITLINK_MODE = "160000"


@dataclass(frozen=True)
class Entry:
    """One tree entry: ``mode`` as git writes it in trees (``40000`` for a directory)."""

    mode: str
    oid: str

    @property
    def is_tree(self) -> bool:
        return self.mode == TREE_MODE

    @property
    def kind(self) -> str:
        """The object type ``git mktree`` expects for this mode."""
        if self.mode == TREE_MODE:
            return "tree"
        return "commit" if self.mode == GITLINK_MODE else "blob"


Tree = dict[str, Entry]  # name -> entry


def object_id(kind: str, content: bytes, algorithm: str = "sha1") -> str:
    """The id git gives an object of ``kind`` (``blob``, ``tree``) holding ``content``."""
    digest = hashlib.new(algorithm)
    digest.update(f"{kind} {len(content)}\0".encode())
    digest.update(content)
    return digest.hexdigest()


def _sort_key(item: tuple[str, Entry]) -> bytes:
    # git orders tree entries by name, comparing a directory as if its name ended with "/".
    name, entry = item
    return name.encode() + (b"/" if entry.is_tree else b"")


def tree_content(tree: Mapping[str, Entry]) -> bytes:
    """The raw tree object git writes for ``tree``."""
    return b"".join(
        f"{entry.mode} {name}".encode() + b"\0" + bytes.fromhex(entry.oid)
        for name, entry in sorted(tree.items(), key=_sort_key)
    )


def parse_tree(content: bytes, oid_bytes: int = 20) -> Tree:
    """The entries of a raw tree object (as ``git cat-file --batch`` prints it)."""
    tree: Tree = {}
    at = 0
    while at < len(content):
        space = content.index(b" ", at)
        nul = content.index(b"\0", space)
        mode = content[at:space].decode()
        name = content[space + 1:nul].decode("utf-8", "surrogateescape")
        oid = content[nul + 1:nul + 1 + oid_bytes].hex()
        tree[name] = Entry(mode, oid)
        at = nul + 1 + oid_bytes
    return tree


@dataclass(frozen=True)
class BuiltTree:
    """A directory built from file contents: its id, plus every object it needs, children first."""

    oid: str
    blobs: dict[str, bytes]  # oid -> content
    trees: list[tuple[str, Tree]]  # (oid, entries), each after the trees it contains


def build_tree(files: Mapping[str, bytes], algorithm: str = "sha1") -> BuiltTree:
    """The tree holding ``files`` (relative paths with ``/``), as plain 100644 files."""
    blobs: dict[str, bytes] = {}
    trees: list[tuple[str, Tree]] = []

    def build(level: Mapping[str, bytes]) -> str:
        tree: Tree = {}
        subdirs: dict[str, dict[str, bytes]] = {}
        for rel, content in level.items():
            head, sep, rest = rel.partition("/")
            if sep:
                subdirs.setdefault(head, {})[rest] = content
            else:
                oid = object_id("blob", content, algorithm)
                blobs[oid] = content
                tree[head] = Entry(FILE_MODE, oid)
        for name, sub in subdirs.items():
            tree[name] = Entry(TREE_MODE, build(sub))
        oid = object_id("tree", tree_content(tree), algorithm)
        trees.append((oid, tree))
        return oid

    return BuiltTree(build(files), blobs, trees)


def tree_id(files: Mapping[str, bytes], algorithm: str = "sha1") -> str:
    """The id of the directory tree holding exactly ``files`` (its fingerprint)."""
    return build_tree(files, algorithm).oid


def ancestors(path: str) -> Iterable[str]:
    """``a/b/c`` -> ``""``, ``a``, ``a/b`` (the trees above it, root first)."""
    parts = path.split("/")
    for depth in range(len(parts)):
        yield "/".join(parts[:depth])
