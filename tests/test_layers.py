"""Layering: the import-linter contracts in pyproject.toml hold, name every package, and bite.

The contracts themselves (layers, the pure core, independent adapters, jobs without adapters or
SQLAlchemy) are checked by ``lint-imports``; this file checks what import-linter cannot say about
itself: that no top-level package escapes the layers, and that a violation really fails the run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "previewd"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LINT_TIMEOUT = 240  # seconds; building the import graph of the whole package


def contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package under ``root/src`` with ``root/pyproject.toml``."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root / "src")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=LINT_TIMEOUT, check=False)


def test_every_package_has_a_layer() -> None:
    layered = {name.strip() for layer in contracts()["layers"]["layers"]  # type: ignore[attr-defined]
               for name in layer.split("|")}
    packages = {f"previewd.{p.stem if p.is_file() else p.name}" for p in SRC.iterdir()
                if (p.is_dir() and (p / "__init__.py").exists())
                or (p.suffix == ".py" and p.stem not in {"__init__", "__main__"})}
    assert packages - layered == set(), "a new top-level package needs a place in the layers contract"


def test_every_adapters_package_is_a_package() -> None:
    """grimp skips namespace packages: a folder without ``__init__.py`` would escape every contract."""
    for folder in [SRC, *(p for p in SRC.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        if any(folder.glob("*.py")):
            assert (folder / "__init__.py").exists(), folder


def test_the_contracts_hold() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("core/models.py", "import previewd.config.base", None),  # allowed: core sits above config
    ("config/base.py", "from previewd.core import models", "Each package imports only the packages below it"),
    ("core/planning.py", "import os", "does no I/O"),
    ("adapters/scm/github.py", "import previewd.settings", "Each package imports only the packages below it"),
    ("adapters/registry.py", "import previewd.adapters.git", "Adapters do not import each other"),
    ("jobs/drift.py", "import previewd.adapters.registry", "Jobs never import adapters"),
])
def test_a_violation_fails_the_run(tmp_path: Path, module: str, line: str, contract: str | None) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SRC, tmp_path / "src" / "previewd", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "src" / "previewd" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    run = lint_imports(tmp_path)
    if contract is None:
        assert run.returncode == 0, run.stdout + run.stderr
    else:
        assert run.returncode != 0
        assert contract in run.stdout.split("Broken contracts")[-1]
