"""The admission guard with canaries: a router Application may use the routes project, and only
while it targets no preview namespace; without canaries the routes project is not allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from previewd.config import Config
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.settings import parse_config
from tests.canary_support import with_canary
from tests.support import base_config
from tests.test_admission_cel import admits, other_app, policy, preview_app

SHA = "0123456789abcdef0123456789abcdef01234567"


def canary_config(canary: bool = True) -> Config:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    return parse_config(with_canary(data) if canary else data, {})


def router_app(config: Config) -> dict[str, Any]:
    repo = config.repository("acme/shop")
    assert repo is not None
    files = render_preview(config, repo, PreviewInput("acme/shop", 7, SHA, canary_services=("api",)))
    app: dict[str, Any] = yaml.safe_load(files["router-application.yaml"])
    return app


def test_router_application_in_the_routes_project_is_admitted() -> None:
    config = canary_config()
    guard = policy(config, "admission-guard.yaml")
    assert admits(guard, {"object": router_app(config)})
    assert admits(guard, {"object": preview_app(config)})


def test_routes_project_never_reaches_a_preview_namespace() -> None:
    config = canary_config()
    guard = policy(config, "admission-guard.yaml")
    pointed = copy.deepcopy(router_app(config))
    pointed["spec"]["destination"]["namespace"] = "pr-7-shop"
    assert not admits(guard, {"object": pointed})
    preview = copy.deepcopy(preview_app(config))
    preview["spec"]["project"] = "previews-routes"
    assert not admits(guard, {"object": preview})
    elsewhere = copy.deepcopy(router_app(config))
    elsewhere["spec"]["project"] = "default"
    assert not admits(guard, {"object": elsewhere})


def test_without_canaries_the_routes_project_is_not_an_exemption() -> None:
    config = canary_config(canary=False)
    guard = policy(config, "admission-guard.yaml")
    labelled = other_app(namespace="apps", project="previews-routes")
    labelled["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "previewd"}
    assert not admits(guard, {"object": labelled})
