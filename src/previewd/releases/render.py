"""The platform template: ``app-env.yaml`` + ``release.yaml`` -> Deployment, Service, Ingress.

Pure and deterministic (same files, same bytes). Only contract fields reach the manifests; the
image is always pinned by digest, so a moved tag never changes what runs. Building blocks are
resolved by platform convention: each ``ref`` is a Secret of that name in the app namespace
(ExternalSecrets or the building block itself creates it), mounted with ``envFrom``.
"""

from __future__ import annotations

from previewd.core.render.labels import MANAGED_BY_KEY
from previewd.core.render.yamlout import Manifest, dump_all
from previewd.errors import PermanentError
from previewd.releases.contract import AppEnvironment, AppRelease, same_owner
from previewd.releases.workload import Probe

MANAGED_BY = "previewd-release"
TMP_VOLUME = "tmp"
TMP_SIZE_LIMIT = "256Mi"  # the writable /tmp beside the read-only root filesystem


def _labels(env: AppEnvironment) -> dict[str, str]:
    m = env.metadata
    return {
        "app.kubernetes.io/name": m.app,
        "app.kubernetes.io/instance": f"{m.app}-{m.environment}",
        MANAGED_BY_KEY: MANAGED_BY,
        "idp.meshcloud.io/tenant": m.tenant,
        "idp.meshcloud.io/environment": m.environment,
    }


def _selector(env: AppEnvironment) -> dict[str, str]:
    return {"app.kubernetes.io/name": env.metadata.app,
            "app.kubernetes.io/instance": f"{env.metadata.app}-{env.metadata.environment}"}


def _port_name(env: AppEnvironment) -> str:
    return env.spec.runtime.service.protocol  # "http" or "grpc"


def _probe(env: AppEnvironment, probe: Probe) -> Manifest:
    rt = env.spec.runtime
    kind = probe.type or rt.service.protocol
    check: Manifest
    if kind == "http":
        check = {"httpGet": {"path": probe.path, "port": _port_name(env)}}
    elif kind == "grpc":  # the kubelet's gRPC probe takes a port number, not a name
        check = {"grpc": {"port": rt.service.port}}
        if probe.grpcService is not None:
            check["grpc"]["service"] = probe.grpcService
    else:
        check = {"tcpSocket": {"port": _port_name(env)}}
    return {**check, "initialDelaySeconds": probe.initialDelaySeconds, "periodSeconds": probe.periodSeconds,
            "timeoutSeconds": probe.timeoutSeconds, "failureThreshold": probe.failureThreshold}


def deployment(env: AppEnvironment, image: str) -> Manifest:
    rt = env.spec.runtime
    container: Manifest = {
        "name": env.metadata.app,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": _port_name(env), "containerPort": rt.service.port, "protocol": "TCP"}],
        "readinessProbe": _probe(env, rt.probes.readiness),
        "livenessProbe": _probe(env, rt.probes.liveness),
        "startupProbe": _probe(env, rt.probes.startup),
        "resources": {
            "requests": {"cpu": rt.resources.requests.cpu, "memory": rt.resources.requests.memory},
            "limits": {"cpu": rt.resources.limits.cpu, "memory": rt.resources.limits.memory},
        },
        # Pod Security "restricted", and a read-only root filesystem with a writable /tmp.
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": rt.runAs.user,
            "runAsGroup": rt.runAs.group,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": TMP_VOLUME, "mountPath": "/tmp"}],
    }
    config = env.spec.config
    if config and config.env:
        container["env"] = [{"name": v.name, "value": v.value} for v in config.env]
    if config and config.buildingBlocks:
        container["envFrom"] = [{"secretRef": {"name": b.ref}} for b in config.buildingBlocks]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": env.metadata.app, "namespace": env.spec.target.namespace,
                     "labels": _labels(env)},
        "spec": {
            "replicas": rt.scaling.replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": _selector(env)},
            "template": {
                "metadata": {"labels": _labels(env)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": rt.runAs.user,
                        "runAsGroup": rt.runAs.group,
                        "fsGroup": rt.runAs.group,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}],
                },
            },
        },
    }


def service(env: AppEnvironment) -> Manifest:
    port = env.spec.runtime.service.port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": env.metadata.app, "namespace": env.spec.target.namespace,
                     "labels": _labels(env)},
        "spec": {
            "type": "ClusterIP",
            "selector": _selector(env),
            "ports": [{"name": _port_name(env), "port": port, "targetPort": _port_name(env),
                       "protocol": "TCP", "appProtocol": _port_name(env)}],
        },
    }


def ingress(env: AppEnvironment) -> Manifest | None:
    spec = env.spec.ingress
    if spec is None or not spec.enabled or spec.host is None:
        return None
    out: Manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": env.metadata.app, "namespace": env.spec.target.namespace,
                     "labels": _labels(env)},
        "spec": {
            "rules": [{
                "host": spec.host,
                "http": {"paths": [{
                    "path": spec.path,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": env.metadata.app,
                                            "port": {"name": _port_name(env)}}},
                }]},
            }],
        },
    }
    if spec.tls.enabled:
        out["spec"]["tls"] = [{"hosts": [spec.host], "secretName": f"{env.metadata.app}-tls"}]
    return out


def render(env: AppEnvironment, release: AppRelease) -> list[Manifest]:
    """Every manifest of the environment; PermanentError when the pair cannot be deployed."""
    problems = same_owner(env, release)
    image = release.spec.image.pinned
    if image is None:
        problems.append(f"spec.image.digest: {release.spec.image.digest!r} is not a sha256 digest; "
                        "the platform deploys only images pinned by digest")
    if problems or image is None:
        raise PermanentError("cannot render: " + "; ".join(problems))
    docs = [deployment(env, image), service(env)]
    optional = ingress(env)
    if optional is not None:
        docs.append(optional)
    return docs


def render_bytes(env: AppEnvironment, release: AppRelease) -> bytes:
    return dump_all(render(env, release))
