"""Build a Kustomize bundle with the real ``kubectl kustomize`` (or ``kustomize build``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from previewd.errors import PermanentError


def kustomize_argv(path: Path) -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(path)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(path)]
    raise PermanentError("neither kustomize nor kubectl is installed (make deps installs kubectl)")


def build(path: Path) -> list[dict[str, Any]]:
    """The bundle's rendered documents; PermanentError with kustomize's message if it fails."""
    proc = subprocess.run(kustomize_argv(path), capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise PermanentError(f"kustomize build failed: {proc.stderr.strip()}")
    return [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict)]


def source_index(path: Path) -> dict[tuple[str, str], str]:
    """(kind, name) -> the bundle file that declares it, for naming files in findings."""
    index: dict[tuple[str, str], str] = {}
    for file in sorted(path.rglob("*")):
        if file.suffix not in (".yaml", ".yml") or not file.is_file():
            continue
        try:
            docs = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
                key = (str(doc.get("kind")), str(doc["metadata"].get("name")))
                index.setdefault(key, str(file.relative_to(path)))
    return index
