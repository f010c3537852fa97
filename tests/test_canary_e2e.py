"""Done-when: a labelled PR on a canary repository, through a real ``previewd serve`` (FakeGitHub
for the API, a real bare GitOps remote), gets its grants, router Application and routes, all
schema-valid, only for the services it changed; closing it removes them in one commit, and the
stable manifests in the same repository are never touched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests import schemas
from tests.canary_support import with_canary
from tests.fakes import FakeGitHub
from tests.github_support import CLEAN_BUNDLE, env, github_config
from tests.support import REPO, Serve, git, pr_payload, previewd, remote_files, remote_log, wait_for, write_config

SHA = "4" * 40
DIR = "previews/acme/shop/pr-42"
STABLE = {"stable/apps/httproute.yaml": "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                                        "metadata: {name: api, namespace: apps}\n"}


def seed_stable(tmp: Path, bare: Path) -> None:
    """The GitOps repository already holds the stable routes (previewd must leave them alone)."""
    work = tmp / "seed"
    git("clone", "--quiet", str(bare), str(work))
    for rel, text in STABLE.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "stable", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)


def serve(tmp: Path, bare: Path, port: int, fake: FakeGitHub, kind: str) -> Serve:
    data = with_canary(github_config(tmp, bare, fake, port), kind=kind)
    return Serve(write_config(tmp, data), tmp, port, env=env(fake)).start()


def changed_paths(bare: Path, commit: str) -> set[str]:
    out = subprocess.run(["git", "-C", str(bare), "show", "--name-only", "--format=", commit],
                         capture_output=True, text=True, check=True).stdout
    return {line for line in out.splitlines() if line}


def sticky(fake: FakeGitHub) -> str:
    comments = fake.comments(REPO, 42)
    return str(comments[0]["body"]) if comments else ""


def run(tmp: Path, bare: Path, port: int, fake: FakeGitHub, kind: str, edge_kind: str) -> None:
    seed_stable(tmp, bare)
    fake.add_pull(REPO, 42, SHA, updated_at="2026-01-01T00:00:01Z")
    fake.add_tarball(REPO, SHA, CLEAN_BUNDLE)
    changed = ["services/api/main.py", "services/store/server.py", "README.md"]
    fake.set_pull_files(REPO, 42, changed)
    server = serve(tmp, bare, port, fake, kind)
    try:
        opened = pr_payload(sha=SHA, updated_at="2026-01-01T00:00:01Z")
        assert server.post("pull_request", opened).status_code in (200, 202)
        wait_for(lambda: remote_log(bare)[0] == f"preview(acme/shop#42): create at {SHA[:7]}", timeout=60)
        files = remote_files(bare, DIR)
        docs = {rel.removeprefix(DIR + "/"): schemas.validate_bytes(body) for rel, body in files.items()}
        (router,) = docs["router-application.yaml"]
        assert router["spec"]["project"] == "previews-routes"
        assert router["spec"]["source"]["path"] == f"{DIR}/routes"
        assert [d["kind"] for d in docs["routes/routes.yaml"]] == [edge_kind, "GRPCRoute"]
        grants = {g["spec"]["from"][0]["kind"] for g in docs["baseline/referencegrants.yaml"]}
        assert grants == ({"HTTPRoute", "GRPCRoute"} if edge_kind == "HTTPRoute" else {"GRPCRoute"})
        assert all(d["metadata"]["namespace"] == "pr-42-shop" for d in docs["baseline/referencegrants.yaml"])
        assert fake.count("GET", "/pulls/42/files") >= 1
        # ``previewd render`` writes the same bytes, router Application and routes included.
        created = docs["baseline/namespace.yaml"][0]["metadata"]["annotations"]["previewd.io/created-at"]
        args = ["render", "--config", str(tmp / "previewd.yaml"), "--repo", REPO, "--number", "42",
                "--sha", SHA, "--label", "preview", "--created-at", created, "--out", str(tmp / "out")]
        proc = previewd(*args, *(f"--changed={c}" for c in changed), env=env(fake))
        assert proc.returncode == 0, proc.stderr
        out = tmp / "out"
        assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
        wait_for(lambda: "**Canary:**" in sticky(fake))
        assert "`api`: changed `services/api/main.py`" in sticky(fake)
        assert "`store`: changed `services/store/server.py`" in sticky(fake)

        closed = pr_payload("pull_request.closed.1.json", sha=SHA, updated_at="2026-01-01T00:00:05Z")
        server.post("pull_request", closed)
        wait_for(lambda: remote_log(bare)[0] == "preview(acme/shop#42): delete (PR closed)", timeout=60)
        assert remote_files(bare, DIR) == {}
        head = subprocess.run(["git", "-C", str(bare), "rev-parse", "main"], capture_output=True,
                              text=True, check=True).stdout.strip()
        assert changed_paths(bare, head) == set(files)  # one commit removed all of it
        stable = {rel: body.decode() for rel, body in remote_files(bare, "stable").items()}
        assert stable == STABLE
        for subject in remote_log(bare)[:-1]:  # every previewd commit touched only the preview
            assert subject.startswith("preview(acme/shop#42)")
    finally:
        server.stop()


def test_httproute_canary_lives_and_dies_with_the_pr(tmp_path: Path, bare: Path, port: int,
                                                     fake: FakeGitHub) -> None:
    run(tmp_path, bare, port, fake, "httproute", "HTTPRoute")


def test_traefik_canary_only_for_changed_services(tmp_path: Path, bare: Path, port: int,
                                                  fake: FakeGitHub) -> None:
    run(tmp_path, bare, port, fake, "traefik", "IngressRoute")


def test_pr_changing_nothing_mapped_gets_no_canary_and_says_so(tmp_path: Path, bare: Path, port: int,
                                                               fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA, updated_at="2026-01-01T00:00:01Z")
    fake.add_tarball(REPO, SHA, CLEAN_BUNDLE)
    fake.set_pull_files(REPO, 42, ["docs/readme.md"])
    server = serve(tmp_path, bare, port, fake, "httproute")
    try:
        server.post("pull_request", pr_payload(sha=SHA, updated_at="2026-01-01T00:00:01Z"))
        wait_for(lambda: remote_log(bare) == [f"preview(acme/shop#42): create at {SHA[:7]}"], timeout=60)
        names = set(remote_files(bare, DIR))
        assert f"{DIR}/application.yaml" in names
        assert not any("routes" in n or "referencegrants" in n for n in names)
        wait_for(lambda: "**Canary:** none" in sticky(fake))
        policies = yaml.safe_load_all(remote_files(bare, DIR)[f"{DIR}/baseline/networkpolicies.yaml"])
        assert not any(p["metadata"]["name"].startswith("allow-canary") for p in policies)
    finally:
        server.stop()
