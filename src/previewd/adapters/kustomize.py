"""Build a Kustomize bundle with the real ``kubectl kustomize`` (or ``kustomize build``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
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


# The bundle is attacker-controlled: kustomize must not reach the network on its behalf (remote
# resources would turn previewd into a proxy for internal addresses). ``remote_references``
# refuses them before any build; as a second line, HTTP(S) fetches go to a proxy that does not
# exist (Go exempts loopback from proxies, hence the first line), git may only use local
# repositories, and ssh is disabled.
_DEAD_PROXY = "http://127.0.0.1:9"
_OFFLINE = {
    "HTTP_PROXY": _DEAD_PROXY, "HTTPS_PROXY": _DEAD_PROXY, "http_proxy": _DEAD_PROXY,
    "https_proxy": _DEAD_PROXY, "ALL_PROXY": _DEAD_PROXY, "NO_PROXY": "", "no_proxy": "",
    "GIT_ALLOW_PROTOCOL": "file", "GIT_SSH_COMMAND": "false", "GIT_TERMINAL_PROMPT": "0",
}


def build(path: Path) -> list[dict[str, Any]]:
    """The bundle's rendered documents; PermanentError with kustomize's message if it fails."""
    with tempfile.TemporaryDirectory(prefix="previewd-kustomize-") as home:
        # Only what the binary needs: no tokens, no kubeconfig, no user git config.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LC_ALL": "C", **_OFFLINE}
        proc = subprocess.run(kustomize_argv(path), capture_output=True, text=True, timeout=120,
                              check=False, env=env)
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


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Every kustomization field whose entries kustomize loads from a path (or, given one, a URL).
REFERENCE_KEYS = ("resources", "bases", "components", "crds", "configurations", "generators",
                  "transformers", "validators", "patchesStrategicMerge")
_REMOTE_HOST = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?/")


def remote_references(path: Path) -> list[tuple[str, str]]:
    """(file, entry) for every kustomization entry under ``path`` that is not a local path."""
    found = []
    for file in sorted(p for name in KUSTOMIZATION_NAMES for p in path.rglob(name)):
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            continue  # kustomize itself reports an unreadable kustomization
        if not isinstance(doc, dict):
            continue
        entries = [e for key in REFERENCE_KEYS for e in _as_list(doc.get(key))]
        entries += [p.get("path") for p in _as_list(doc.get("patches")) if isinstance(p, dict)]
        found += [(str(file.relative_to(path)), e) for e in entries
                  if isinstance(e, str) and _is_remote(e, file.parent)]
    return found


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _is_remote(entry: str, base: Path) -> bool:
    if "://" in entry or entry.startswith("git@") or "?ref=" in entry:
        return True
    # "github.com/org/repo//dir" is kustomize's remote shorthand: a host-like first segment.
    return bool(_REMOTE_HOST.match(entry)) and not (base / entry).exists()
