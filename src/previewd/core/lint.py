"""Deploy-bundle contract checks (seed 000): pure functions over rendered documents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Cluster-scoped kinds of Kubernetes and common add-ons: infra, never part of a preview bundle.
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CSIDriver", "CSINode",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "PriorityClass",
    "RuntimeClass", "IngressClass", "VolumeAttachment", "CertificateSigningRequest",
    "FlowSchema", "PriorityLevelConfiguration", "GatewayClass", "ClusterIssuer",
    "ClusterSecretStore", "ClusterPolicy", "ClusterCleanupPolicy", "PodSecurityPolicy",
})
# Namespaced kinds that would weaken the baseline previewd renders (isolation, quota).
BASELINE_OWNED = frozenset({"NetworkPolicy", "ResourceQuota", "LimitRange"})
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class Finding:
    file: str
    resource: str  # Kind/name
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.resource}: [{self.rule}] {self.message}"


def resource_id(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind', '?')}/{meta.get('name', '?')}"


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    node: Any = doc
    for key in POD_SPEC_PATHS.get(str(doc.get("kind")), ()):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) and doc.get("kind") in POD_SPEC_PATHS else None


def image_problem(image: str) -> str | None:
    """Why an image reference is not acceptable, or None."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag or digest"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the mutable tag ':latest'"
    return None


def images_of(doc: dict[str, Any]) -> list[str]:
    spec = _pod_spec(doc)
    if spec is None:
        return []
    found = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict) and isinstance(container.get("image"), str):
                found.append(container["image"])
    return found


def check_documents(docs: Iterable[tuple[str, dict[str, Any]]]) -> list[Finding]:
    """Findings for rendered documents, each paired with the bundle file it came from."""
    findings: list[Finding] = []
    for file, doc in docs:
        rid = resource_id(doc)
        kind = str(doc.get("kind"))
        if (doc.get("metadata") or {}).get("namespace"):
            findings.append(Finding(file, rid, "no-namespace",
                                    "sets metadata.namespace; previews set the namespace"))
        if kind in CLUSTER_SCOPED:
            findings.append(Finding(file, rid, "no-cluster-scoped",
                                    f"{kind} is cluster-scoped; cluster resources are infra"))
        if kind in BASELINE_OWNED:
            findings.append(Finding(file, rid, "no-baseline-override",
                                    f"{kind} is part of the preview baseline that previewd renders"))
        for image in images_of(doc):
            problem = image_problem(image)
            if problem:
                findings.append(Finding(file, rid, "pinned-images", problem))
    return findings
