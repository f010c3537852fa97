"""The repository stands on its own: what the tests and benchmarks read is in the repository or
installed from a package registry pinned in a lock file (issue 9 item 1)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support import CRDS, ROOT, WEBHOOK_EXAMPLES, webhook_examples

# Ways a path can leave the repository: a parent of the repository root, a fixed absolute path
# on the developer's machine, a sibling folder such as ../shared, the user's home.
ESCAPES = re.compile(r"parents\[[2-9]\]|ROOT\.parent|\.parent\.parent\.parent|/work/|\.\./shared"
                     r"|expanduser|Path\.home|/ \"shared\"")
CHECKED = ["tests", "bench", "scripts"]


def checked_files() -> list[Path]:
    files = [ROOT / "Makefile"]
    for folder in CHECKED:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".sh"}]
    return [p for p in files if p != Path(__file__).resolve()]


def test_no_test_benchmark_or_script_reads_outside_the_repository() -> None:
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in checked_files()
             for n, line in enumerate(p.read_text().splitlines(), 1) if ESCAPES.search(line)]
    assert found == []


def test_webhook_examples_come_from_the_pinned_npm_package() -> None:
    manifest = json.loads((ROOT / "tools" / "node" / "package.json").read_text())
    lock = json.loads((ROOT / "tools" / "node" / "package-lock.json").read_text())
    pinned = manifest["dependencies"]["@octokit/webhooks-examples"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert lock["packages"]["node_modules/@octokit/webhooks-examples"]["version"] == pinned
    installed = json.loads((WEBHOOK_EXAMPLES.parents[1] / "package.json").read_text())
    assert installed["version"] == pinned, "run scripts/install-node-deps.sh"
    assert WEBHOOK_EXAMPLES.resolve().is_relative_to(ROOT)
    examples = webhook_examples()
    assert examples["pull_request.opened.1.json"]["action"] == "opened"
    assert "action" not in examples["push.event.1.json"]


def test_every_crd_schema_is_in_the_repository_with_its_source() -> None:
    source = (CRDS / "SOURCE.md").read_text()
    schemas = sorted(str(p.relative_to(CRDS)) for p in CRDS.rglob("*.json"))
    assert schemas, "no CRD schemas"
    assert [s for s in schemas if f"`{s}`" not in source] == []
    listed = re.findall(r"^\| `([^`]+\.json)`", source, re.MULTILINE)
    assert sorted(listed) == schemas
    assert "MIT" in (CRDS / "LICENSE").read_text()
    assert CRDS.resolve().is_relative_to(ROOT)


def run_installer(tmp: Path, log: Path) -> None:
    """Run scripts/install-node-deps.sh in a copy of tools/node under ``tmp`` with an ``npm`` on
    PATH that records its arguments and creates node_modules (the real npm is not needed to see
    whether the script decides to install)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\necho "$@" >> {log}\nmkdir -p node_modules\n')
    npm.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    subprocess.run([str(ROOT / "scripts" / "install-node-deps.sh")], cwd=tmp, env=env, check=True)


def test_node_installer_reinstalls_when_the_lock_file_changes(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    shutil.copytree(ROOT / "tools" / "node", tmp_path / "tools" / "node")
    log = tmp_path / "npm.log"
    run_installer(tmp_path, log)
    run_installer(tmp_path, log)  # unchanged: the shortcut holds
    assert log.read_text().splitlines() == ["ci --no-audit --no-fund --loglevel=error"]
    lock = tmp_path / "tools" / "node" / "package-lock.json"
    lock.write_text(lock.read_text().replace('"lockfileVersion"', '"lockfileVersion" ', 1))
    run_installer(tmp_path, log)  # a package added or bumped: install again
    assert len(log.read_text().splitlines()) == 2
