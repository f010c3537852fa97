"""Every pod previewd renders or ships meets Pod Security ``restricted``, and the release
template's workloads carry health probes, so a broken version never shows as Available."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from previewd.errors import PermanentError
from previewd.releases.contract import ContractError, parse_app_env, parse_release
from previewd.releases.render import render_bytes
from tests import schemas
from tests.pod_security import check_restricted, pod_specs
from tests.release_support import release_text, seed_app_env

ROOT = Path(__file__).resolve().parents[1]
DIGEST = "sha256:" + "c" * 64
SHIPPED = sorted([*(ROOT / "deploy").rglob("*.yaml"), *(ROOT / "examples").rglob("*.yaml")])


def rendered(runtime: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    doc = seed_app_env()
    doc["spec"]["runtime"].update(runtime or {})
    env = parse_app_env(doc)
    release = parse_release(yaml.safe_load(release_text(doc, "1.0", DIGEST)))
    return schemas.validate_bytes(render_bytes(env, release))


def deployment_pod(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


RESTRICTED_POD = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "c", "image": "x", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
}


@pytest.mark.parametrize(("change", "reason"), [
    (lambda p: p["securityContext"].pop("seccompProfile"), "seccompProfile"),
    (lambda p: p["securityContext"].update(runAsNonRoot=False), "runAsNonRoot"),
    (lambda p: p["securityContext"].update(runAsUser=0), "runAsUser"),
    (lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"), "allowPrivilegeEscalation"),
    (lambda p: p["containers"][0]["securityContext"].update(capabilities={"drop": ["NET_RAW"]}), "drop ALL"),
    (lambda p: p["containers"][0]["securityContext"].update(
        capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}), "may not be added"),
    (lambda p: p["containers"][0]["securityContext"].update(privileged=True), "privileged"),
    (lambda p: p["containers"][0]["securityContext"].update(seccompProfile={"type": "Unconfined"}), "Unconfined"),
    (lambda p: p.update(hostNetwork=True), "hostNetwork"),
    (lambda p: p.update(volumes=[{"name": "h", "hostPath": {"path": "/"}}]), "hostPath"),
    (lambda p: p["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]), "hostPort"),
])
def test_the_checker_refuses_each_restricted_violation(change: Any, reason: str) -> None:
    assert check_restricted(RESTRICTED_POD) == []
    pod = copy.deepcopy(RESTRICTED_POD)
    change(pod)
    assert any(reason in problem for problem in check_restricted(pod))


@pytest.mark.parametrize("runtime", [
    None,
    {"service": {"port": 9000, "protocol": "grpc"}},
    {"probes": {"readiness": {"type": "tcp"}, "liveness": {"path": "/healthz", "failureThreshold": 5}},
     "runAs": {"user": 65532, "group": 65532}},
])
def test_release_workloads_meet_restricted(runtime: dict[str, Any] | None) -> None:
    pod = deployment_pod(rendered(runtime))
    assert check_restricted(pod) == []
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert isinstance(container["securityContext"]["runAsUser"], int) and container["securityContext"]["runAsUser"] > 0
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/tmp"] in {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    assert pod["automountServiceAccountToken"] is False


def test_release_workloads_have_probes_by_protocol() -> None:
    (http,) = deployment_pod(rendered())["containers"]
    assert http["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert http["livenessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert http["startupProbe"]["failureThreshold"] * http["startupProbe"]["periodSeconds"] >= 60
    (grpc,) = deployment_pod(rendered({"service": {"port": 9000, "protocol": "grpc"}}))["containers"]
    assert grpc["readinessProbe"]["grpc"] == {"port": 9000}  # the standard gRPC health service
    custom = {"probes": {"readiness": {"path": "/ready", "periodSeconds": 5},
                         "liveness": {"type": "grpc", "grpcService": "liveness"}}}
    (container,) = deployment_pod(rendered(custom))["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["readinessProbe"]["periodSeconds"] == 5
    assert container["livenessProbe"]["grpc"] == {"port": 8080, "service": "liveness"}


@pytest.mark.parametrize("runtime", [
    {"runAs": {"user": 0}},
    {"probes": {"readiness": {"path": "no-slash"}}},
    {"probes": {"readiness": {"periodSeconds": 0}}},
    {"probes": {"readiness": {"type": "exec"}}},
    {"probes": {"liveness": {"command": ["sh"]}}},
])
def test_unsafe_or_unknown_workload_fields_are_contract_errors(runtime: dict[str, Any]) -> None:
    with pytest.raises((ContractError, PermanentError)):
        rendered(runtime)


def test_previewd_deployment_meets_restricted_without_a_token() -> None:
    docs = schemas.validate_file(ROOT / "deploy" / "kubernetes" / "previewd.yaml")
    pod = deployment_pod(docs)
    assert check_restricted(pod) == []
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_release_plugin_sidecar_meets_restricted_on_its_own() -> None:
    """Argo CD's repo-server pod sets no pod-level securityContext the sidecar could lean on."""
    patch = yaml.safe_load((ROOT / "deploy" / "release-cmp" / "repo-server-sidecar.yaml").read_text())
    pod = {"containers": patch["spec"]["template"]["spec"]["containers"],
           "volumes": patch["spec"]["template"]["spec"]["volumes"]}
    assert check_restricted(pod) == []


def test_every_shipped_pod_template_meets_restricted() -> None:
    checked = 0
    for path in SHIPPED:
        for doc in yaml.safe_load_all(path.read_text()):
            for pod in pod_specs(doc or {}):
                assert check_restricted(pod) == [], path
                checked += 1
    assert checked >= 1
