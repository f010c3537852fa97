"""Shared rules are written once: each literal below appears in exactly one module of src/previewd.

A second copy of a regex, media type, label or backoff formula drifts from the first without any
test noticing; every module takes these from the one definition instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "previewd"
WRITTEN_ONCE = {
    "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?": "naming.py",  # a DNS-1123 label
    "(?:(?:[._]|__|-+)": "images.py",  # a repository path component
    "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}": "images.py",  # an OCI tag
    "sha256:[0-9a-f]{64}": "images.py",  # a full sha256 digest
    "application/vnd.oci.image.index.v1+json": "images.py",
    "application/vnd.oci.image.manifest.v1+json": "images.py",
    "application/vnd.docker.distribution.manifest.list.v2+json": "images.py",
    "application/vnd.docker.distribution.manifest.v2+json": "images.py",
    "application/vnd.docker.distribution.manifest.v1+prettyjws": "images.py",
    "app.kubernetes.io/managed-by": "core/render/labels.py",
    '"platform-"': "naming.py",
    "2 **": "core/backoff.py",  # the one exponential backoff formula
}
SOURCES = {str(p.relative_to(SRC)): p.read_text() for p in SRC.rglob("*.py")}


@pytest.mark.parametrize(("literal", "home"), WRITTEN_ONCE.items())
def test_written_once(literal: str, home: str) -> None:
    assert [name for name, text in sorted(SOURCES.items()) if literal in text] == [home]


def test_backoff_has_no_second_formula() -> None:
    assert [name for name, text in sorted(SOURCES.items()) if "2.0**" in text or "2.0 **" in text] == []
