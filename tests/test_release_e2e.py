"""End to end: a real ``docker-registry`` notifying a real ``previewd serve`` whose release
controller writes to a real bare state repository; promotion through the API and the CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.registry_support import OciLayout, Registry, skopeo_push
from tests.release_support import app_env, changed_files, env_path, release_text, show, state_repo
from tests.support import Serve, base_config, remote_log, wait_for, write_config

HOOK_TOKEN = "registry-hook-token"
API_TOKEN = "release-api-token"
OLD = "sha256:" + "0" * 64
DEV, PROD = env_path(tenant="dev"), env_path(tenant="prod")
TWIN_A, TWIN_B = env_path(tenant="twin-a"), env_path(tenant="twin-b")


@dataclass
class Stack:
    registry: Registry
    serve: Serve
    state: Path
    layout: OciLayout
    config: Path

    def push(self, path: str, tag: str, content: bytes | None = None) -> str:
        digest = self.layout.add_image(tag, content=content or f"{path}:{tag}".encode())
        skopeo_push(self.layout, tag, f"{self.registry.host}/{path}")
        return digest

    def digest(self, env: str) -> str:
        data = yaml.safe_load(show(self.state, f"{env}/release.yaml"))
        return str(data["spec"]["image"]["digest"])

    def commits(self) -> int:
        return len(remote_log(self.state))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "previewd.cli.main", "release", *args,
                               "--config", str(self.config)],
                              capture_output=True, text=True, env=self.serve.env, timeout=60)


def envs(host: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, repo, kw in ((DEV, "team-a/app1", {}),
                           (PROD, "team-a/app1-prod", {"environment": "prod", "mode": None}),
                           (TWIN_A, "team-b/shared", {"app": "a"}),
                           (TWIN_B, "team-b/shared", {"app": "b"})):
        doc = app_env(f"{host}/{repo}", **kw)
        out[path] = (doc, release_text(doc, "0.9", OLD))
    return out


@pytest.fixture
def stack(tmp_path: Path, bare: Path, port: int) -> Iterator[Stack]:
    registry = Registry(tmp_path / "registry",
                        notify_url=f"http://127.0.0.1:{port}/hooks/registry/distribution",
                        notify_token=HOOK_TOKEN).start()
    state = state_repo(tmp_path, envs(registry.host))
    config = base_config(tmp_path, bare, port)
    config["registries"] = [{"host": registry.host, "insecure": True,
                             "notifications_token": HOOK_TOKEN}]
    config["releases"] = {"gitops": {"url": str(state), "branch": "main", "path": "workspaces",
                                     "workdir": str(tmp_path / "state-work")},
                          "environments": ["dev", "staging", "prod"],
                          "api_token": "${PREVIEWD_RELEASE_TOKEN}", "poll_interval": "1h"}
    path = write_config(tmp_path, config)
    serve = Serve(path, tmp_path, port, env={"PREVIEWD_RELEASE_TOKEN": API_TOKEN}).start()
    try:
        yield Stack(registry, serve, state, OciLayout(tmp_path / "oci"), path)
    finally:
        serve.stop()
        registry.stop()


def test_push_notify_release_pending_promote_conflict(stack: Stack) -> None:
    # Unclaimed and conflicting pushes first: queued in order, so once the claimed push has
    # been released they have certainly been handled, and wrote nothing.
    stack.push("team-z/unclaimed", "1.0")
    stack.push("team-b/shared", "1.0")
    digest = stack.push("team-a/app1", "1.0")
    wait_for(lambda: stack.commits() == 2, timeout=30)
    assert changed_files(stack.state) == [f"{DEV}/release.yaml"]
    assert stack.digest(DEV) == digest == stack.registry.digest("team-a/app1", "1.0")

    conflicts = stack.serve.get("/api/releases/conflicts").json()["conflicts"]
    assert [(c["repository"], c["claims"], c["refused_pushes"]) for c in conflicts] == [
        (f"{stack.registry.host}/team-b/shared", [TWIN_A, TWIN_B], 1)]
    assert 'previewd_release_conflicts_total 1.0' in stack.serve.get("/metrics").text

    # Manual (prod): pending until promoted.
    prod_digest = stack.push("team-a/app1-prod", "2.0")
    pending = wait_for(lambda: stack.serve.get("/api/releases/pending").json()["pending"])
    assert [(p["env_path"], p["tag"], p["digest"]) for p in pending] == [(PROD, "2.0", prod_digest)]
    listed = stack.cli("pending")
    assert listed.returncode == 0 and f"{PROD}  " in listed.stdout and prod_digest in listed.stdout
    assert stack.commits() == 2

    url = stack.serve.url + "/api/releases/promote"
    body = {"env": PROD, "tag": "2.0"}
    assert httpx.post(url, json=body, timeout=10).status_code == 401
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"},
                      timeout=10).status_code == 401
    bad = httpx.post(url, json={"env": PROD, "tag": "2.0", "digest": prod_digest},
                     headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10)
    assert bad.status_code == 400
    promoted = stack.cli("promote", PROD, "--tag", "2.0")
    assert promoted.returncode == 0, promoted.stderr
    assert promoted.stdout.startswith("released: promoted (commit ")
    assert stack.commits() == 3 and stack.digest(PROD) == prod_digest
    assert stack.serve.get("/api/releases/pending").json()["pending"] == []
    unknown = httpx.post(url, json={"env": "workspaces/nope", "tag": "2.0"},
                         headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10)
    assert unknown.status_code == 404

    # A duplicate notification (same push again) and a re-push of the same bytes: no commit.
    stack.push("team-a/app1", "1.0")
    second = stack.push("team-a/app1", "1.1")
    wait_for(lambda: stack.commits() == 4, timeout=30)
    assert stack.digest(DEV) == second
    assert stack.commits() == 4
