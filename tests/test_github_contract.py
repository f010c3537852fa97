"""Contract: every GitHub request previewd makes, through the real adapter, against Prism serving
GitHub's official OpenAPI description with request validation. A rejected request fails.

Prism (``@stoplight/prism-cli``) and the description (``@octokit/openapi``) are installed under
``.tools/node`` by ``scripts/install-node-deps.sh`` (``make test`` runs it).
"""

from __future__ import annotations

import inspect
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from previewd.adapters.scm.github import GitHubScm
from previewd.config import GithubConfig
from tests.support import ROOT, free_port

NODE = ROOT / ".tools" / "node"
PRISM = NODE / "node_modules" / ".bin" / "prism"
SPEC = NODE / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
SHA = "0123456789abcdef0123456789abcdef01234567"
REPO = "acme/shop"


class Prism:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log
        self.seen = 0

    def violations(self) -> list[str]:
        """Validator errors logged since the last call (request problems Prism found)."""
        lines = self.log.read_text(errors="replace").splitlines()
        new, self.seen = lines[self.seen:], len(lines)
        return [line for line in new if ("✖" in line or "Request terminated" in line)
                and "Violation: response" not in line]  # the description's own examples, not ours


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    if not PRISM.exists() or not SPEC.exists():
        pytest.fail("Prism is not installed: run scripts/install-node-deps.sh (make node-deps)")
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180  # loading GitHub's description takes a few seconds
        while "Prism is listening" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prism did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        server = Prism(f"http://127.0.0.1:{port}", log)
        server.violations()
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def scm_for(prism: Prism, **auth: Any) -> GitHubScm:
    config = GithubConfig.model_validate({"api_url": prism.url, "auth": auth or {"token": "ghp_contract"}})
    return GitHubScm(config, sleep=lambda _s: None)


# Every method of GitHubScm that sends an API request, with arguments of the right shape.
CALLS: dict[str, Callable[[GitHubScm], object]] = {
    "list_open_pulls": lambda s: s.list_open_pulls(REPO),
    "get_pull": lambda s: s.get_pull(REPO, 42),
    "pull_files": lambda s: s.pull_files(REPO, 42),
    "permission": lambda s: s.permission(REPO, "octocat"),
    "find_comment": lambda s: s.find_comment(REPO, 42, "<!-- previewd:sticky acme/shop#42 -->"),
    "create_comment": lambda s: s.create_comment(REPO, 42, "### Preview environment: **waiting**"),
    "update_comment": lambda s: s.update_comment(REPO, 1234, "### Preview environment: **ready**"),
    "add_reaction": lambda s: s.add_reaction(REPO, 1234, "+1"),
    "create_deployment": lambda s: s.create_deployment(REPO, SHA, "preview/pr-42", "previewd preview"),
    "create_deployment_status": lambda s: s.create_deployment_status(
        REPO, 7, "success", "preview ready", "https://shop-pr-42.preview.example.com",
        "https://argocd.example.com/applications/pr-42-shop"),
    "create_commit_status": lambda s: s.create_commit_status(
        REPO, SHA, "pending", "preview deploying", "https://argocd.example.com/applications/x", "previewd"),
    "tarball_location": lambda s: s.tarball_location(REPO, SHA),
    # GET /users/{owner} (Prism's example is a User), then the /users/{owner}/packages/... request.
    "list_container_versions": lambda s: s.list_container_versions("acme", "shop/api"),
    "delete_container_version": lambda s: s.delete_container_version("acme", "shop/api", 245301),
}
# Not API requests of their own: download_archive (and download_tree) = tarball_location + the codeload download.
NOT_API = {"download_tree", "download_archive"}


def test_every_request_method_is_covered() -> None:
    public = {name for name, _ in inspect.getmembers(GitHubScm, inspect.isfunction) if not name.startswith("_")}
    assert public - NOT_API == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_request_passes_prism_validation(prism: Prism, name: str) -> None:
    scm = scm_for(prism)
    CALLS[name](scm)  # a request Prism rejects answers 4xx, which the adapter raises
    assert prism.violations() == []
    assert scm.requests >= 1


def test_deployment_statuses_for_every_state_pass(prism: Prism) -> None:
    scm = scm_for(prism)
    for state in ("in_progress", "success", "failure", "inactive"):
        scm.create_deployment_status(REPO, 7, state, f"preview {state}", None, None)
    for state in ("pending", "success", "failure", "error"):
        scm.create_commit_status(REPO, SHA, state, f"preview {state}", None, "previewd")
    assert prism.violations() == []


def test_conditional_get_sends_if_none_match_and_passes(prism: Prism) -> None:
    scm = scm_for(prism)
    scm.get_pull(REPO, 42)
    scm.get_pull(REPO, 42)
    assert prism.violations() == []


def test_app_auth_installation_lookup_and_token_pass(prism: Prism, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "app.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    scm = scm_for(prism, app_id=12345, private_key_file=str(pem))
    scm.get_pull(REPO, 42)  # GET /repos/{o}/{r}/installation, POST .../access_tokens, then the GET
    log = prism.log.read_text(errors="replace")
    assert re.search(r"get /repos/acme/shop/installation", log)
    assert re.search(r"post /app/installations/\d+/access_tokens", log)
    assert prism.violations() == []


def test_container_package_requests_for_an_org_owner_pass(prism: Prism) -> None:
    scm = scm_for(prism)
    scm._owner_kinds["acme"] = "orgs"  # Prism's GET /users/{owner} always answers a User
    scm.list_container_versions("acme", "shop/api")
    scm.delete_container_version("acme", "shop", 245301)
    log = prism.log.read_text(errors="replace")
    assert re.search(r"get /orgs/acme/packages/container/shop%2Fapi/versions", log)
    assert re.search(r"delete /orgs/acme/packages/container/shop/versions/245301", log)
    assert prism.violations() == []
