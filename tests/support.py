"""Test helpers shared by every test module: configs, signed webhooks, a real serve process.

Test doubles live in ``tests/fakes.py``; this module only builds real things.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml

from previewd.core.models import Preview, PreviewState, PullRequest

ROOT = Path(__file__).resolve().parents[1]
# GitHub's webhook examples: the npm package @octokit/webhooks-examples, pinned in
# tools/node/package-lock.json and installed by scripts/install-node-deps.sh (`make deps`).
WEBHOOK_EXAMPLES = (ROOT / ".tools" / "node" / "node_modules" / "@octokit" / "webhooks-examples"
                    / "api.github.com" / "index.json")
CRDS = ROOT / "tests" / "data" / "crds"  # upstream CRD schemas; origin in SOURCE.md there
SECRET = "test-webhook-secret"
# A minimal bundle workload; tests replace IMAGE.
DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: IMAGE
"""
REPO = "acme/shop"


def previewd(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real ``previewd`` CLI in a subprocess (a minimal environment plus ``env``)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd or ROOT)}
    return subprocess.run([sys.executable, "-m", "previewd.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, env={**base, **(env or {})}, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_pr(**overrides: Any) -> PullRequest:
    """An open, labelled, same-repository PR by a user (acme/shop#42); override any field."""
    repo = overrides.get("repo", REPO)
    fields: dict[str, Any] = {
        "repo": repo, "number": 42, "state": "open", "merged": False, "draft": False,
        "labels": ("preview",), "head_sha": "a" * 40, "head_repo": repo, "author_login": "dev",
        "author_type": "User", "updated_at": "2026-01-01T00:00:00Z",
    }
    return PullRequest(**{**fields, **overrides})


def make_preview(**overrides: Any) -> Preview:
    """An allowed, pending preview of ``make_pr()`` with the same repo and number; override any
    field (``pr`` included)."""
    repo, number = overrides.get("repo", REPO), overrides.get("number", 42)
    fields: dict[str, Any] = {
        "repo": repo, "number": number, "pr": make_pr(repo=repo, number=number), "allowed": True,
        "reason": "label set", "reason_code": "ok", "state": PreviewState.PENDING,
        "namespace": f"shop-pr-{number}", "host": f"shop-pr-{number}.example.com",
    }
    return Preview(**{**fields, **overrides})


def make_bare(path: Path) -> Path:
    git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
    return path


def remote_log(bare: Path, branch: str = "main") -> list[str]:
    """Commit subjects on ``branch`` of a bare repo, newest first (empty if no commits)."""
    proc = subprocess.run(["git", "-C", str(bare), "log", "--format=%s", branch],
                          capture_output=True, text=True)
    return proc.stdout.splitlines() if proc.returncode == 0 else []


def remote_files(bare: Path, prefix: str = "", branch: str = "main") -> dict[str, bytes]:
    """Every file under ``prefix`` at the tip of ``branch`` of a bare repo (two git runs: the
    tree listing, then every blob through one ``cat-file --batch``)."""
    spec = ["--", prefix] if prefix else []
    proc = subprocess.run(["git", "-C", str(bare), "ls-tree", "-r", "-z", branch, *spec],
                          capture_output=True)
    if proc.returncode != 0:
        return {}
    blobs: list[tuple[str, str]] = []  # (object id, path)
    for entry in proc.stdout.decode().split("\0"):
        if entry:
            meta, _, name = entry.partition("\t")
            _mode, kind, oid = meta.split()
            if kind == "blob":
                blobs.append((oid, name))
    if not blobs:
        return {}
    out = subprocess.run(["git", "-C", str(bare), "cat-file", "--batch"], capture_output=True,
                         check=True, input="".join(f"{oid}\n" for oid, _ in blobs).encode()).stdout
    files: dict[str, bytes] = {}
    offset = 0
    for _oid, name in blobs:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        files[name] = out[header_end + 1:header_end + 1 + size]
        offset = header_end + 1 + size + 1  # the content is followed by a newline
    return files


def base_config(tmp: Path, bare: Path, port: int = 8080, **overrides: Any) -> dict[str, Any]:
    """The issue's example config, pointed at ``bare`` and ``tmp``."""
    config: dict[str, Any] = {
        "server": {"listen": f"127.0.0.1:{port}"},
        "store": {"url": f"sqlite:///{tmp}/state/previewd.db"},
        "github": {"webhook_secret": "${PREVIEWD_WEBHOOK_SECRET}"},
        "gitops": {"url": str(bare), "branch": "main", "path": "previews",
                   "workdir": str(tmp / "work")},
        "argocd": {"namespace": "argocd", "project": "previews",
                   "destination_server": "https://kubernetes.default.svc"},
        "repositories": [{
            "name": REPO,
            "trigger": {"labels": ["preview"], "exclude_labels": ["no-preview"],
                        "drafts": False, "forks": False, "bots": False},
            "deploy": {"repo_url": "https://github.com/acme/shop.git", "path": "deploy/preview"},
            "host": "shop-pr-{number}.preview.example.com",
            "route": {"service": "web", "port": 80,
                      "gateway": {"name": "preview-gateway", "namespace": "gateway-system"}},
        }],
    }
    for key, value in overrides.items():
        config[key] = value
    return config


def write_config(tmp: Path, config: dict[str, Any]) -> Path:
    path = tmp / "previewd.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@cache
def webhook_examples() -> dict[str, dict[str, Any]]:
    """Every GitHub webhook example by ``<event>.<action>.<n>.json`` (``<event>.event.<n>.json``
    for events without an action; ``n`` counts from 1 within one event and action, in the
    package's order)."""
    if not WEBHOOK_EXAMPLES.exists():
        raise FileNotFoundError(f"{WEBHOOK_EXAMPLES} is missing: run `make deps` "
                                "(scripts/install-node-deps.sh installs @octokit/webhooks-examples)")
    examples: dict[str, dict[str, Any]] = {}
    for event in json.loads(WEBHOOK_EXAMPLES.read_text()):
        seen: Counter[str] = Counter()
        for example in event["examples"]:
            action = example.get("action") or "event"
            seen[action] += 1
            examples[f"{event['name']}.{action}.{seen[action]}.json"] = example
    return examples


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of one GitHub webhook example (see ``webhook_examples``)."""
    return copy.deepcopy(webhook_examples()[name])


def pr_payload(
    name: str = "pull_request.opened.1.json",
    *,
    repo: str = REPO,
    number: int = 42,
    sha: str = "a" * 40,
    labels: tuple[str, ...] = ("preview",),
    updated_at: str = "2026-01-01T00:00:00Z",
    **pr_fields: Any,
) -> dict[str, Any]:
    """A real GitHub payload rewritten to ``repo`` (base and head) with chosen facts."""
    data = copy.deepcopy(fixture(name))
    owner, short = repo.split("/")
    for holder in (data, data["pull_request"]["base"], data["pull_request"]["head"]):
        r = holder["repository"] if holder is data else holder["repo"]
        r["full_name"], r["name"] = repo, short
        r["owner"]["login"] = owner
    pr = data["pull_request"]
    data["number"] = pr["number"] = number
    pr["head"]["sha"] = sha
    pr["labels"] = [{"name": label} for label in labels]
    pr["updated_at"] = updated_at
    pr.update(pr_fields)
    return data


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(event: str, body: bytes, delivery: str | None = None,
                   secret: str = SECRET) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
    }


class Serve:
    """A real ``previewd serve`` subprocess."""

    def __init__(self, config_path: Path, cwd: Path, port: int, env: dict[str, str] | None = None):
        self.config_path, self.cwd, self.port = config_path, cwd, port
        self.env = {**os.environ, "PREVIEWD_WEBHOOK_SECRET": SECRET, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / "serve.log"

    def start(self) -> Serve:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "previewd.cli.main", "serve", "--config", str(self.config_path)],
            cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"previewd exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"previewd did not start:\n{self.log.read_text()}")

    def post(self, event: str, payload: dict[str, Any] | bytes, delivery: str | None = None,
             headers: dict[str, str] | None = None, path: str = "/hooks/github") -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {**github_headers(event, body, delivery), **(headers or {})}
        return httpx.post(self.url + path, content=body, headers=sent, timeout=10)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@contextmanager
def serving(config_path: Path, cwd: Path, port: int) -> Iterator[Serve]:
    server = Serve(config_path, cwd, port).start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(predicate: Any, timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy; return its value or fail with the last one."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    assert value, "condition not met in time"
    return value
