"""Registry notifications into a real ``previewd serve`` whose release controller writes to a
real bare state repository, images in a real ``docker-registry``: what the controller commits
must always pass ``previewd release check`` and render."""

from __future__ import annotations

import json
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
from tests.release_support import app_env, env_path, release_text, show, state_repo
from tests.schemas import validate_bytes
from tests.support import Serve, base_config, git, remote_log, wait_for, write_config

TOKEN = "registry-hook-token"
OLD = "sha256:" + "0" * 64
DEV = env_path(tenant="dev")
PAYLOADS = Path(__file__).parent / "data" / "registry-payloads"


@dataclass
class Stack:
    registry: Registry
    serve: Serve
    state: Path
    layout: OciLayout
    tmp: Path

    def push(self, tag: str) -> str:
        digest = self.layout.add_image(tag, content=f"app1:{tag}".encode())
        skopeo_push(self.layout, tag, f"{self.registry.host}/team-a/app1")
        return digest

    def notify(self, kind: str, payload: dict[str, Any], path_token: bool = False) -> httpx.Response:
        url = f"{self.serve.url}/hooks/registry/{kind}" + (f"/{TOKEN}" if path_token else "")
        headers = {} if path_token else {"Authorization": f"Bearer {TOKEN}"}
        return httpx.post(url, json=payload, headers=headers, timeout=10)

    def release(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(show(self.state, f"{DEV}/release.yaml"))
        return data

    def release_check(self) -> subprocess.CompletedProcess[str]:
        checkout = self.tmp / f"checkout-{len(remote_log(self.state))}"
        git("clone", "--quiet", str(self.state), str(checkout))
        return subprocess.run([sys.executable, "-m", "previewd.cli.main", "release", "check",
                               str(checkout)], capture_output=True, text=True, timeout=60)

    def render(self) -> subprocess.CompletedProcess[str]:
        checkout = self.tmp / f"render-{len(remote_log(self.state))}"
        git("clone", "--quiet", str(self.state), str(checkout))
        return subprocess.run([sys.executable, "-m", "previewd.cli.main", "release", "render",
                               str(checkout / DEV)], capture_output=True, text=True, timeout=60)


@pytest.fixture
def stack(tmp_path: Path, bare: Path, port: int) -> Iterator[Stack]:
    registry = Registry(tmp_path / "registry").start()  # notifications are posted by the test
    env = app_env(f"{registry.host}/team-a/app1")
    state = state_repo(tmp_path, {DEV: (env, release_text(env, "0.9", OLD))})
    config = base_config(tmp_path, bare, port)
    config["registries"] = [{"host": registry.host, "insecure": True,
                             "notifications_token": TOKEN}]
    config["releases"] = {"gitops": {"url": str(state), "branch": "main", "path": "workspaces",
                                     "workdir": str(tmp_path / "state-work")},
                          "environments": ["dev", "staging", "prod"], "poll_interval": "1h"}
    serve = Serve(write_config(tmp_path, config), tmp_path, port).start()
    try:
        yield Stack(registry, serve, state, OciLayout(tmp_path / "oci"), tmp_path)
    finally:
        serve.stop()
        registry.stop()


def harbor_resource(stack: Stack, tag: str, digest: str) -> dict[str, Any]:
    """Harbor's documented PUSH_ARTIFACT payload for team-a/app1 (``tag`` may be the digest)."""
    doc: dict[str, Any] = json.loads((PAYLOADS / "harbor-push-digest.json").read_text())
    ref = f"@{digest}" if tag == digest else f":{tag}"
    doc["event_data"]["resources"] = [{"digest": digest, "tag": tag,
                                       "resource_url": f"{stack.registry.host}/team-a/app1{ref}"}]
    doc["event_data"]["repository"].update(name="app1", namespace="team-a",
                                           repo_full_name="team-a/app1")
    return doc


def test_harbor_digest_in_tag_never_reaches_release_yaml(stack: Stack) -> None:
    d1 = stack.push("1.0")
    # Harbor's push by digest (and replication) puts the digest in "tag": a digest push.
    answer = stack.notify("harbor", harbor_resource(stack, d1, d1))
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    # The CloudEvents format with a real tag is a push (it used to be answered 200 and dropped).
    cloud = json.loads((PAYLOADS / "harbor-cloudevents-push.json").read_text())
    cloud["data"] = harbor_resource(stack, "1.0", d1)["event_data"]
    assert stack.notify("harbor", cloud).status_code == 202
    wait_for(lambda: len(remote_log(stack.state)) == 2, timeout=30)
    assert stack.release()["spec"]["image"] == {"repository": f"{stack.registry.host}/team-a/app1",
                                                "tag": "1.0", "digest": d1}
    checked = stack.release_check()
    assert checked.returncode == 0, checked.stderr
    rendered = stack.render()
    assert rendered.returncode == 0 and f"team-a/app1@{d1}" in rendered.stdout, rendered.stderr
    assert [d["kind"] for d in validate_bytes(rendered.stdout.encode())][:2] == ["Deployment", "Service"]

    # A Quay push whose only way to authenticate is the token in the path.
    d2 = stack.push("1.1")
    quay = {"repository": "team-a/app1", "docker_url": f"{stack.registry.host}/team-a/app1",
            "namespace": "team-a", "name": "app1", "updated_tags": ["1.1"]}
    assert stack.notify("quay", quay, path_token=True).status_code == 202
    wait_for(lambda: len(remote_log(stack.state)) == 3, timeout=30)
    assert stack.release()["spec"]["image"]["digest"] == d2
    assert stack.release_check().returncode == 0
    assert TOKEN not in stack.serve.log.read_text()
