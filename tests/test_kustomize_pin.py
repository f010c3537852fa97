"""One Kustomize everywhere: the version pinned in pyproject.toml is the one previewd runs."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from previewd.adapters import kustomize

ROOT = Path(__file__).resolve().parents[1]


def pinned() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in deps if d.startswith(kustomize.KUBECTL_DISTRIBUTION)]
    found = re.fullmatch(rf"{kustomize.KUBECTL_DISTRIBUTION}==([0-9.]+)", pin)
    assert found, f"{pin!r} is not an exact pin"
    return found.group(1)


def test_installed_kubectl_is_the_pinned_wheel_not_one_from_path() -> None:
    assert importlib.metadata.version(kustomize.KUBECTL_DISTRIBUTION) == pinned()
    path = kustomize.kubectl_path()
    dist = importlib.metadata.distribution(kustomize.KUBECTL_DISTRIBUTION)
    assert path in {Path(str(dist.locate_file(f))).resolve() for f in dist.files or []}
    on_path = shutil.which("kubectl", path="/usr/local/bin:/usr/bin:/bin")
    assert on_path is None or Path(on_path).resolve() != path


def test_lint_prints_the_kustomize_version_it_used(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("configMapGenerator:\n  - name: c\n    literals: [A=1]\n")
    proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "lint", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    used = re.search(r"^kustomize (v\S+) ", proc.stdout, re.M)
    assert used and used.group(1) == kustomize.KUSTOMIZE_VERSION == kustomize.kustomize_version()
    assert str(kustomize.kubectl_path()) in proc.stdout
