"""docs/architecture.md stays true: every file it names exists, and its layers are the contract's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text()
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
PATH = re.compile(r"`((?:src|tests|docs)/[^`\s]+|[A-Za-z]+\.(?:md|toml))`")


def test_every_named_file_exists() -> None:
    named = set(PATH.findall(DOC))
    assert len(named) > 20  # the recipes and the trace name real files
    assert sorted(p for p in named if not (ROOT / p).exists()) == []


def test_the_layer_table_is_the_contract() -> None:
    rows = re.findall(r"^\| (\d+) \| (.+?) \|", DOC, re.M)
    documented = [sorted(re.findall(r"`([a-z_]+)`", packages)) for _n, packages in rows]
    (layers,) = [c["layers"] for c in CONTRACTS if c["id"] == "layers"]
    contract = [sorted(name.split("#")[0].strip().removeprefix("previewd.") for name in layer.split("|"))
                for layer in layers]
    assert documented == contract


def test_every_contract_is_described() -> None:
    for contract in CONTRACTS:
        assert f"**{contract['id']}**" in DOC, contract["id"]
    ignored = {c["id"]: len(c.get("ignore_imports", [])) for c in CONTRACTS}
    assert f"{ignored['jobs-use-ports']} adapter imports and {ignored['jobs-no-sql']} SQLAlchemy imports" in DOC


def test_every_named_definition_exists() -> None:
    """Functions, classes and tables the trace and the recipes name are defined where they say."""
    traced = re.findall(r"`(\w+)` (?:in |\()`(src/[^`]+\.py)`", DOC)
    assert len(traced) >= 8
    for function, path in traced:
        defined = rf"^\s*(?:(?:async )?def {function}\b|class {function}\b|{function}(?:: [^=]+)? = )"
        assert re.search(defined, (ROOT / path).read_text(), re.M), (function, path)
