"""Deterministic YAML output (PyYAML's C dumper when available)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # C dumper when libyaml is built in

Manifest = dict[str, Any]


def dump(doc: Manifest) -> str:
    """One document; key order is the construction order, so output is byte-stable."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def dump_all(docs: Iterable[Manifest]) -> bytes:
    """Several documents separated by ``---``, as UTF-8 bytes."""
    return "---\n".join(dump(d) for d in docs).encode("utf-8")
