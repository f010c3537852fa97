"""Layering: the pure core imports no adapter, job, runtime or HTTP code and no I/O library."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "previewd"
FORBIDDEN_FOR_CORE = (
    "previewd.adapters", "previewd.jobs", "previewd.runtime", "previewd.http", "previewd.cli",
    "previewd.settings", "subprocess", "httpx", "sqlalchemy", "socket", "githubkit", "fastapi",
    "asyncio", "time",
)
FORBIDDEN_FOR_CORE_EXTRA = ("previewd.releases",)
# The release controller's pure half (contract, matching, policy, editing, rendering).
PURE_RELEASE_MODULES = ("contract", "matching", "policy", "editing", "render")
FORBIDDEN_FOR_ADAPTERS = ("previewd.jobs", "previewd.runtime", "previewd.http", "previewd.cli")


def runtime_imports(path: Path) -> set[str]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` are not)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in runtime_imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_core_is_pure() -> None:
    assert violations("core", FORBIDDEN_FOR_CORE + FORBIDDEN_FOR_CORE_EXTRA) == []


def test_release_logic_is_pure() -> None:
    found = []
    for name in PURE_RELEASE_MODULES:
        path = SRC / "releases" / f"{name}.py"
        found += [f"releases/{name}.py imports {m}" for m in runtime_imports(path)
                  if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_FOR_CORE)]
    assert found == []


def test_adapters_do_not_reach_up() -> None:
    assert violations("adapters", FORBIDDEN_FOR_ADAPTERS) == []
