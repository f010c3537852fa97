"""The shipped examples work as the docs say (issue 9 item 17): the application bundle passes
``previewd lint`` and is what the example configs deploy; the state repository passes
``release check`` and renders; the docs state rules instead of pointing at documents a user
does not have."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests import schemas
from tests.support import ROOT, previewd

EXAMPLES = ROOT / "examples"
ENV_DIR = EXAMPLES / "state-repo" / "workspaces" / "acme" / "projects" / "shop" / "tenants" / "team-a"
# Text a user reads: docs, examples, install manifests, published schemas and the code's docstrings.
DOC_TREES = ["README.md", "docs", "examples", "deploy", "schemas", "src/previewd"]
# A pointer to a design document ("seed 003", "the seed's appendix") instead of the rule itself.
SEED_REFERENCE = re.compile(r"\bseeds?\b", re.IGNORECASE)


def test_example_app_bundle_passes_lint() -> None:
    proc = previewd("lint", str(EXAMPLES / "app"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == f"{EXAMPLES / 'app'}: ok"


def test_example_app_bundle_is_what_the_example_configs_deploy() -> None:
    docs = [d for f in sorted((EXAMPLES / "app").glob("*.yaml")) if f.name != "kustomization.yaml"
            for d in schemas.validate_file(f)]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    images = {c["image"].rsplit(":", 1)[0] for d in docs if d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]}
    for name in ("quickstart.yaml", "previewd.yaml"):
        repo = yaml.safe_load((EXAMPLES / name).read_text())["repositories"][0]
        route = repo["route"]
        assert [p["port"] for p in services[route["service"]]["spec"]["ports"]] == [route["port"]]
        assert {image["name"] for image in repo.get("images", [])} <= images


def test_example_state_repo_passes_release_check_and_renders(tmp_path: Path) -> None:
    checked = previewd("release", "check", str(EXAMPLES / "state-repo"))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "1 app-envs, 1 repositories, 0 problems"
    out = tmp_path / "rendered.yaml"
    rendered = previewd("release", "render", str(ENV_DIR), "--out", str(out))
    assert rendered.returncode == 0, rendered.stderr
    docs = schemas.validate_bytes(out.read_bytes())
    assert [d["kind"] for d in docs] == ["Deployment", "Service", "Ingress"]
    release = yaml.safe_load((ENV_DIR / "release.yaml").read_text())["spec"]["image"]
    (container,) = docs[0]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{release['repository']}@{release['digest']}"


def test_docs_state_rules_instead_of_pointing_at_design_documents() -> None:
    found = []
    for tree in DOC_TREES:
        root = ROOT / tree
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.suffix in {".md", ".py", ".yaml", ".json", ".html", ".txt"} and path.is_file():
                found += [f"{path.relative_to(ROOT)}:{n}" for n, line in
                          enumerate(path.read_text().splitlines(), 1) if SEED_REFERENCE.search(line)]
    assert found == []


def test_coverage_data_is_not_committed() -> None:
    assert ".coverage" in (ROOT / ".gitignore").read_text().split()
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", ".coverage", ".coverage.*"],
                             capture_output=True, text=True)
    assert tracked.returncode != 0 or tracked.stdout == ""
