"""Helpers for the GitHub integration tests: configs pointed at a FakeGitHub, an in-process
service driven step by step (no sleeping), deploy bundles served as tarballs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from previewd.runtime.github_wiring import GithubRuntime
from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.fakes import FakeGitHub
from tests.support import DEPLOYMENT_YAML, REPO, base_config

ARGO_TOKEN = "argo-notifications-token"
DEPLOYMENT = DEPLOYMENT_YAML.replace("IMAGE", "ghcr.io/acme/shop:1.2.3")
KUSTOMIZATION = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                 "resources:\n  - web.yaml\n")
CLEAN_BUNDLE = {"deploy/preview/kustomization.yaml": KUSTOMIZATION, "deploy/preview/web.yaml": DEPLOYMENT}
BAD_BUNDLE = {"deploy/preview/kustomization.yaml": KUSTOMIZATION,
              "deploy/preview/web.yaml": DEPLOYMENT.replace("  name: web\n", "  name: web\n  namespace: prod\n", 1)}


def github_config(tmp: Path, bare: Path, fake: FakeGitHub, port: int = 8080, **github: Any) -> dict[str, Any]:
    data = base_config(tmp, bare, port)
    data["github"] = {"webhook_secret": "${PREVIEWD_WEBHOOK_SECRET}", "api_url": fake.url,
                      "auth": {"token": "${GITHUB_TOKEN}"}, "resync_interval": "1h", **github}
    data["argocd"] = {**data["argocd"], "url": "https://argocd.example.com",
                      "notifications_token": "${PREVIEWD_ARGOCD_TOKEN}"}
    return data


def env(fake: FakeGitHub) -> dict[str, str]:
    from tests.support import SECRET

    return {"PREVIEWD_WEBHOOK_SECRET": SECRET, "GITHUB_TOKEN": fake.token, "PREVIEWD_ARGOCD_TOKEN": ARGO_TOKEN}


def service_for(tmp: Path, bare: Path, fake: FakeGitHub, **github: Any) -> Service:
    return build_service(parse_config(github_config(tmp, bare, fake, **github), env(fake)))


def ghcr_service(tmp: Path, bare: Path, fake: FakeGitHub, reader: Any) -> Service:
    """A service for ``ghcr.io/acme/shop`` with ``cleanup_tags: true``; image gating and the
    registry adapter read ``reader`` (a ``FakeManifestReader``), so nothing leaves loopback."""
    from previewd.adapters.image_resolver import RegistryImageResolver
    from previewd.jobs.bundle_check import BundleCheckResolver

    data = github_config(tmp, bare, fake)
    data["repositories"][0].update({"images": [{"name": "ghcr.io/acme/shop"}], "cleanup_tags": True})
    service = build_service(parse_config(data, env(fake)))
    resolver = service.ctx.images
    assert isinstance(resolver, BundleCheckResolver)
    resolver.inner = RegistryImageResolver(reader)
    service.ctx.adapters["registry"] = reader
    return service


def runtime(service: Service) -> GithubRuntime:
    value = service.ctx.adapters["github"]
    assert isinstance(value, GithubRuntime)
    return value


CHECK_WAIT = 60.0  # seconds a step waits for the bundle checks it started (they run off the worker)


def step(service: Service, times: int = 1) -> None:
    for _ in range(times):
        service.worker.step()
        _checks_done(service)


def _checks_done(service: Service) -> None:
    from previewd.jobs.bundle_check import BundleCheckResolver

    if isinstance(service.ctx.images, BundleCheckResolver):
        service.ctx.images.wait_idle(CHECK_WAIT)


def resync_now(service: Service) -> None:
    """Make the resync due and run one worker pass (its changes reach the observers)."""
    for job in service.worker.periodic:
        if job.name == "github-resync":
            job.next_at = 0.0
    step(service)


def settle(service: Service, limit: int = 10) -> None:
    """Worker passes until nothing is dirty and no feedback is pending (bounded, no sleeping)."""
    state = runtime(service).state
    for _ in range(limit):
        step(service)
        if not service.store.dirty_previews() and state.pending_count() == 0:
            return
    raise AssertionError("service did not settle")


def argocd_event(service: Service, event: str, sha: str, application: str = "pr-42-shop") -> None:
    body = {"event": event, "application": application, "revision": sha, "health": "Healthy", "sync": "Synced"}
    service.store.add_event("argocd", f"argocd-{uuid.uuid4()}", "notification", json.dumps(body).encode())


def comment_event(service: Service, body: str, login: str, number: int = 42, repo: str = REPO,
                  comment_id: int = 555) -> None:
    from tests.support import fixture

    payload = fixture("issue_comment.created.1.json")
    payload["repository"]["full_name"] = repo
    payload["issue"]["number"] = number
    payload["issue"].setdefault("pull_request", {"url": "https://api.github.com/x"})
    payload["comment"].update({"id": comment_id, "body": body})
    payload["comment"]["user"].update({"login": login, "type": "User"})
    service.store.add_event("github", f"gh-{uuid.uuid4()}", "issue_comment", json.dumps(payload).encode())
