"""Build one commit from a base commit plus exactly the planned path changes, with plumbing only.

No index and no work tree take part: the trees along each planned path are read from the base
(one ``cat-file --batch``), rebuilt in-process, written with one ``hash-object --stdin-paths``
and one ``mktree --batch``, and committed with ``commit-tree``. A lost, truncated or stale
index therefore cannot leak into a commit, and the cost grows with the planned changes and the
width of the trees along their paths, not with the size of the repository. Before a commit is
used, ``diff-tree`` must show it changes nothing outside the planned paths.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from previewd.adapters.git_objects import (
    FILE_MODE,
    TREE_MODE,
    BuiltTree,
    Entry,
    Tree,
    ancestors,
    build_tree,
    object_id,
    parse_tree,
    tree_content,
)
from previewd.errors import PermanentError, TransientError

Run = Callable[..., bytes]  # run(*git_args, input=bytes | None) -> stdout; raises on failure
# The new content of one planned path: a directory's files, one file's bytes, or None (remove).
Content = Mapping[str, bytes] | bytes | None


class GitError(TransientError):
    """A git command failed; the message has credentials removed."""


class PlanViolation(GitError):
    """A built commit changes a path outside the plan: it is never pushed."""


def check_path(path: str) -> str:
    """``path`` if it is a plain relative repository path previewd may plan a change at."""
    parts = path.split("/")
    if (not path or path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts)
            or any(c in path for c in "\0\n\r\t\\")):
        raise PermanentError(f"refusing to write outside the GitOps work tree: {path!r}")
    return path


def _inside(path: str, planned: set[str]) -> bool:
    """Whether ``path`` is one of ``planned`` or below one (cost: the depth of ``path``)."""
    return path in planned or any(a in planned for a in ancestors(path) if a)


def read_trees(run: Run, commit: str, dirs: Sequence[str], oid_bytes: int) -> dict[str, Tree | None]:
    """The tree at each of ``dirs`` in ``commit`` (None where there is none), one git run."""
    if not dirs:
        return {}
    specs = [f"{commit}^{{tree}}" if d == "" else f"{commit}:{d}" for d in dirs]
    out = run("cat-file", "--batch", input="".join(s + "\n" for s in specs).encode())
    trees: dict[str, Tree | None] = {}
    at = 0
    for d in dirs:
        eol = out.index(b"\n", at)
        header = out[at:eol].split()
        at = eol + 1
        if len(header) != 3:  # "<spec> missing"
            trees[d] = None
            continue
        size = int(header[2])
        content = out[at:at + size]
        at += size + 1
        if header[1] != b"tree":
            raise PermanentError(f"cannot write below {d!r}: it is a file in the GitOps repository")
        trees[d] = parse_tree(content, oid_bytes)
    return trees


class PlannedCommit:
    """The trees of ``base`` (None: an empty branch) along the planned paths, and the commit
    that changes exactly those paths."""

    def __init__(self, run: Run, base: str | None, paths: Sequence[str], algorithm: str,
                 scratch: Path) -> None:
        self._run, self.base, self._algorithm, self._scratch = run, base, algorithm, scratch
        self.paths = [check_path(p) for p in paths]
        planned = set(self.paths)
        for path in self.paths:
            if any(a in planned for a in ancestors(path) if a):
                raise PermanentError(f"planned changes overlap at {path!r}")
        if len(planned) < len(self.paths):
            raise PermanentError("a path is planned twice")
        self._oid_bytes = 32 if algorithm == "sha256" else 20
        # id(files) -> (files, their tree); the files are kept so the id cannot be reused.
        self._built: dict[int, tuple[Mapping[str, bytes], BuiltTree]] = {}
        wanted = sorted({a for p in self.paths for a in ancestors(p)}, key=lambda a: (a.count("/"), a))
        self.trees: dict[str, Tree | None] = self._read_trees(wanted)

    # -- reading the base ----------------------------------------------------------------

    def _read_trees(self, dirs: list[str]) -> dict[str, Tree | None]:
        """Every tree in ``dirs`` at the base (None where it does not exist), one git run."""
        if self.base is None:
            return dict.fromkeys(dirs)
        return read_trees(self._run, self.base, dirs, self._oid_bytes)

    def current(self, path: str) -> Entry | None:
        """What the base holds at ``path`` (one of the planned paths)."""
        parent, _, name = path.rpartition("/")
        tree = self.trees.get(parent)
        return tree.get(name) if tree else None

    # -- building ------------------------------------------------------------------------

    def entry_for(self, content: Content) -> tuple[Entry | None, BuiltTree | None]:
        """The entry ``content`` becomes, and the directory built for it (hashed once per
        content object: ``differs`` and ``commit`` ask for the same one)."""
        if content is None or (not isinstance(content, bytes) and not content):
            return None, None  # an empty directory does not exist in git
        if isinstance(content, bytes):
            return Entry(FILE_MODE, object_id("blob", content, self._algorithm)), None
        cached = self._built.get(id(content))
        if cached is None or cached[0] is not content:
            cached = (content, build_tree(content, self._algorithm))
            self._built[id(content)] = cached
        built = cached[1]
        return Entry(TREE_MODE, built.oid), built

    def differs(self, path: str, content: Content) -> bool:
        """Whether the planned ``content`` at ``path`` differs from the base."""
        return self.entry_for(content)[0] != self.current(path)

    def commit(self, changes: Mapping[str, Content], message: str) -> str | None:
        """The commit of base + ``changes`` (planned paths only); None if the tree is unchanged."""
        blobs: dict[str, bytes] = {}
        trees: list[tuple[str, Tree]] = []
        new_entries: dict[str, Entry | None] = {}
        for path, content in changes.items():
            if path not in self.paths:
                raise PermanentError(f"{path!r} is not a planned path")
            if content is not None and not isinstance(content, bytes):
                for rel in content:
                    check_path(f"{path}/{rel}")
            entry, built = self.entry_for(content)
            new_entries[path] = entry
            if isinstance(content, bytes) and entry is not None:
                blobs[entry.oid] = content
            if built is not None:
                blobs.update(built.blobs)
                trees += built.trees
        root = self._rebuild(new_entries, trees)
        if root == self._base_root():
            return None
        self._write(blobs, trees)
        args = ["commit-tree", root, *(["-p", self.base] if self.base else []), "-F", "-"]
        commit = self._run(*args, input=message.encode()).decode().strip()
        self.verify(commit, list(changes))
        return commit

    def _base_root(self) -> str:
        root = self.trees.get("")
        return object_id("tree", tree_content(root or {}), self._algorithm)

    def _rebuild(self, new_entries: dict[str, Entry | None], trees: list[tuple[str, Tree]]) -> str:
        """Rebuild every tree above the changed paths, deepest first; returns the root tree id."""
        edits: dict[str, dict[str, Entry | None]] = {}  # directory -> name -> new entry
        for path, entry in new_entries.items():
            parent, _, name = path.rpartition("/")
            edits.setdefault(parent, {})[name] = entry
        for directory in sorted({a for p in new_entries for a in ancestors(p)},
                                key=lambda a: -a.count("/") - (a != "")):
            tree = dict(self.trees.get(directory) or {})
            for name, entry in edits.get(directory, {}).items():
                if entry is None:
                    tree.pop(name, None)
                else:
                    tree[name] = entry
            if directory == "" or tree:
                oid = object_id("tree", tree_content(tree), self._algorithm)
                trees.append((oid, tree))
                new: Entry | None = Entry(TREE_MODE, oid)
            else:
                new = None  # git keeps no empty directories: drop it from its parent
            if directory == "":
                return oid
            parent, _, name = directory.rpartition("/")
            edits.setdefault(parent, {})[name] = new
        raise AssertionError("the root tree is always rebuilt")

    # -- writing and checking ------------------------------------------------------------

    def _write(self, blobs: dict[str, bytes], trees: list[tuple[str, Tree]]) -> None:
        """Write the blobs, then the trees (children before parents); check git's ids."""
        if blobs:
            with tempfile.TemporaryDirectory(dir=self._scratch) as tmp:
                paths = []
                for n, content in enumerate(blobs.values()):
                    path = Path(tmp) / str(n)
                    path.write_bytes(content)
                    paths.append(str(path))
                out = self._run("hash-object", "-w", "--no-filters", "--stdin-paths",
                                input="".join(p + "\n" for p in paths).encode())
            self._expect("blob", list(blobs), out)
        if trees:
            seen: dict[str, Tree] = dict(trees)  # the same tree may be built twice
            batch = b"".join(
                b"".join(f"{e.mode} {e.kind} {e.oid}\t{name}".encode() + b"\0"
                         for name, e in tree.items()) + b"\0"
                for tree in seen.values())
            self._expect("tree", list(seen), self._run("mktree", "-z", "--batch", input=batch))

    @staticmethod
    def _expect(kind: str, wanted: list[str], out: bytes) -> None:
        got = out.decode().split()
        if got != wanted:
            raise GitError(f"git wrote {kind} ids that differ from the planned ones "
                                 f"({got[:3]} vs {wanted[:3]})")

    def verify(self, commit: str, planned: Sequence[str]) -> None:
        """Raise ``PlanViolation`` if ``commit`` differs from the base outside ``planned``."""
        against = [self.base] if self.base else ["--root"]
        out = self._run("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--name-only",
                        *against, commit)
        allowed = set(planned)
        stray = [p for p in out.decode("utf-8", "surrogateescape").split("\0")
                 if p and not _inside(p, allowed)]
        if stray:
            raise PlanViolation(f"refusing to push {commit[:12]}: it changes {len(stray)} path(s) "
                                f"outside the planned directories, e.g. {stray[0]!r}")
