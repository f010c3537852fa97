"""The docs stay true: every config key is documented, every documented command exists."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from previewd.cli.main import cli
from previewd.config import Config

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _model_of(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _model_of(arg)
        if inner is not None:
            return inner
    return None


def _is_list(annotation: object) -> bool:
    return typing.get_origin(annotation) is list or any(
        typing.get_origin(a) is list for a in typing.get_args(annotation))


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _model_of(field.annotation)
        if nested is not None and nested is not model:
            sub = f"{path}[]." if _is_list(field.annotation) else f"{path}."
            keys += config_keys(nested, sub)
        else:
            keys.append(path)
    return keys


def documented(key: str) -> bool:
    """``a.b.c`` is documented if it appears whole, or its last part appears beside its parent."""
    if key in DOCS:
        return True
    parent, _, leaf = key.rpartition(".")
    return bool(parent) and parent in DOCS and re.search(rf"`(\S*\.)?{re.escape(leaf)}`", DOCS) is not None


def test_every_config_key_is_documented() -> None:
    missing = [k for k in config_keys(Config) if not documented(k)]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    for name, command in cli.commands.items():
        assert f"previewd {name}" in DOCS
        for sub in getattr(command, "commands", {}):
            assert f"previewd {name} {sub}" in DOCS or f"`{sub}" in DOCS
