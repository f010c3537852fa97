"""The ValidatingAdmissionPolicies previewd ships, evaluated by a real CEL implementation
(cel-python) the way the API server does: variables in order, then every validation; an
evaluation error denies (``failurePolicy: Fail``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from previewd.config import Config
from previewd.core.render.bootstrap import bootstrap_files
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.settings import parse_config
from tests.support import base_config

SHA = "0123456789abcdef0123456789abcdef01234567"
ENV = celpy.Environment()


@pytest.fixture(scope="module")
def config() -> Config:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    data["releases"] = {"gitops": {"url": "/srv/state.git"}}
    return parse_config(data, {})


def policy(config: Config, file: str) -> dict[str, Any]:
    docs = list(yaml.safe_load_all(bootstrap_files(config)[file]))
    (vap,) = [d for d in docs if d["kind"] == "ValidatingAdmissionPolicy"]
    return vap


def admits(vap: dict[str, Any], request: dict[str, Any]) -> bool:
    """True when the policy lets ``request`` (object, oldObject, request) through."""
    activation: dict[str, Any] = {k: celpy.json_to_cel(v) for k, v in request.items()}
    try:
        variables: dict[str, Any] = {}
        for variable in vap["spec"].get("variables", []):
            activation["variables"] = celpy.json_to_cel(variables)
            variables[variable["name"]] = _run(variable["expression"], activation)
        activation["variables"] = celpy.json_to_cel(variables)
        return all(_run(v["expression"], activation) is True
                   for v in vap["spec"]["validations"])
    except celpy.CELEvalError:
        return False  # failurePolicy: Fail


def _run(expression: str, activation: dict[str, Any]) -> Any:
    result = ENV.program(ENV.compile(expression)).evaluate(activation)
    if isinstance(result, celpy.CELEvalError):
        raise result
    return bool(result) if isinstance(result, celpy.celtypes.BoolType) else result


def preview_app(config: Config) -> dict[str, Any]:
    repo = config.repository("acme/shop")
    assert repo is not None
    files = render_preview(config, repo, PreviewInput("acme/shop", 7, SHA, "2026-01-01T00:00:00Z"))
    app: dict[str, Any] = yaml.safe_load(files["application.yaml"])
    return app


def root_app(config: Config) -> dict[str, Any]:
    app: dict[str, Any] = yaml.safe_load(bootstrap_files(config)["root-application.yaml"])
    return app


def other_app(namespace: str = "team-a", project: str = "default") -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "team-a-web", "namespace": "argocd"},
            "spec": {"project": project,
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                     "source": {"repoURL": "https://example.com/a.git", "path": "."}}}


def with_(app: dict[str, Any], project: str | None = None, drop_labels: bool = False,
          name: str | None = None, **meta: dict[str, str]) -> dict[str, Any]:
    out = copy.deepcopy(app)
    if project is not None:
        out["spec"]["project"] = project
    if drop_labels:
        out["metadata"].pop("labels", None)
    if name is not None:
        out["metadata"]["name"] = name
    for field, values in meta.items():
        out["metadata"].setdefault(field, {}).update(values)
    return out


def test_preview_and_root_applications_are_allowed(config: Config) -> None:
    guard = policy(config, "admission-guard.yaml")
    assert admits(guard, {"object": preview_app(config)})
    assert admits(guard, {"object": root_app(config)})
    assert admits(guard, {"object": other_app()})  # not a preview: none of previewd's business


@pytest.mark.parametrize("change", [
    {"project": "default"},  # labelled: the case the old guard caught
    {"project": "default", "drop_labels": True},  # label dropped: targets pr-* all the same
    {"project": "default", "drop_labels": True, "name": "previewd-previews"},  # the root's name
    {"project": "previews-root", "name": "previewd-previews"},  # root's project, preview target
])
def test_a_preview_application_outside_the_previews_project_is_denied(config: Config,
                                                                     change: dict[str, Any]) -> None:
    assert not admits(policy(config, "admission-guard.yaml"), {"object": with_(preview_app(config), **change)})


@pytest.mark.parametrize("meta", [
    {"annotations": {"argocd.argoproj.io/tracking-id":
                     "previewd-previews:argoproj.io/Application:argocd/team-a-web"}},
    {"labels": {"app.kubernetes.io/instance": "previewd-previews"}},
    {"labels": {"app.kubernetes.io/instance": "argocd_previewd-previews"}},
    {"labels": {"app.kubernetes.io/managed-by": "previewd"}},
])
def test_an_application_the_root_created_is_held_wherever_it_points(config: Config,
                                                                    meta: dict[str, dict[str, str]]) -> None:
    guard = policy(config, "admission-guard.yaml")
    assert not admits(guard, {"object": with_(other_app(), **meta)})
    assert admits(guard, {"object": with_(other_app(project="previews"), **meta)})


def test_the_root_exemption_needs_the_root_project_and_namespace(config: Config) -> None:
    guard = policy(config, "admission-guard.yaml")
    assert not admits(guard, {"object": with_(root_app(config), project="default")})
    elsewhere = with_(root_app(config))
    elsewhere["spec"]["destination"]["namespace"] = "kube-system"
    assert not admits(guard, {"object": elsewhere})
    no_project = copy.deepcopy(preview_app(config))
    del no_project["spec"]["project"]
    assert not admits(guard, {"object": no_project})


@given(suffix=st.from_regex(r"[a-z0-9-]{0,20}", fullmatch=True),
       project=st.sampled_from(["default", "previews-root", "other", "previews"]),
       labelled=st.booleans())
def test_any_application_targeting_a_preview_namespace_needs_the_previews_project(
        config: Config, suffix: str, project: str, labelled: bool) -> None:
    app = with_(other_app(namespace=f"pr-{suffix}", project=project),
                labels={"app.kubernetes.io/managed-by": "previewd"} if labelled else {})
    assert admits(policy(config, "admission-guard.yaml"), {"object": app}) == (project == "previews")


def test_platform_namespace_policy(config: Config) -> None:
    vap = policy(config, "platform-namespaces-policy.yaml")
    controller = {"username": "system:serviceaccount:argocd:argocd-application-controller", "groups": []}
    someone = {"username": "alice", "groups": ["developers"]}
    platform_ns = {"metadata": {"name": "platform-db"}}
    app_ns = {"metadata": {"name": "app-team-a"}}

    def request(operation: str, user: dict[str, Any], ns: dict[str, Any]) -> dict[str, Any]:
        objects = {"object": None, "oldObject": ns} if operation == "DELETE" else {"object": ns, "oldObject": None}
        return {**objects, "request": {"operation": operation, "userInfo": user}}

    assert admits(vap, request("CREATE", controller, platform_ns))
    assert not admits(vap, request("CREATE", someone, platform_ns))
    assert admits(vap, request("CREATE", someone, app_ns))
    # DELETE: no object, the name comes from oldObject.
    assert not admits(vap, request("DELETE", someone, platform_ns))
    admin = {"username": "bob", "groups": ["system:masters"]}
    assert admits(vap, request("DELETE", admin, platform_ns))
