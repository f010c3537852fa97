"""Deploy-bundle contract checks: pure functions over rendered documents and kustomization
values, and the one sanitiser every finding's text goes through (findings are posted publicly)."""

from __future__ import annotations

import posixpath
import re
import string
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


# Finding text quotes the bundle (file names, resource names, values, Kustomize's errors): it is
# cut to these lengths and reduced to characters that are inert in Markdown code and in HTML.
EXCERPT_CHARS = 80
MESSAGE_CHARS = 240
_SAFE = frozenset(string.ascii_letters + string.digits + " ._-/:=@+,%~#'?;")


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` as at most ``limit`` safe characters (others become ``?``), one line."""
    clean = "".join(c if c in _SAFE else "?" for c in " ".join(str(text).split()))
    return clean if len(clean) <= limit else clean[:limit - 3] + "..."


@dataclass(frozen=True)
class Finding:
    file: str
    resource: str  # Kind/name
    rule: str
    message: str

    def __str__(self) -> str:
        return (f"{excerpt(self.file)}: {excerpt(self.resource)}: [{excerpt(self.rule)}] "
                f"{excerpt(self.message, MESSAGE_CHARS)}")


# -- non-local references in kustomization files ------------------------------------------

# Keys whose values Kustomize never loads from anywhere (literal data, inline patches, names and
# selectors). Every other string in a kustomization, at any depth, is checked as a location: a
# key missing here is refused by mistake, never fetched by mistake.
DATA_KEYS = frozenset({
    "literals", "patch", "commonLabels", "commonAnnotations", "labels", "pairs", "images", "replicas",
    "namePrefix", "nameSuffix", "namespace", "target", "select", "reject", "options", "fieldPaths",
    "fieldPath", "annotations", "apiVersion", "kind", "metadata", "name", "behavior", "type",
    "sortOptions", "buildMetadata", "group", "version", "labelSelector", "annotationSelector",
})
# Entries Kustomize also reads as remote shorthand ("github.com/org/repo//dir").
SHORTHAND_KEYS = frozenset({"resources", "bases", "components"})
_REMOTE_HOST = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?/")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def reference_problem(value: str, base: str, key: str, exists: bool = False) -> str | None:
    """Why ``value`` (the string under ``key`` in a kustomization in the bundle directory
    ``base``, relative to the bundle root) is not a location inside the bundle, or None.
    ``exists``: a file or directory of that name exists there (shorthand is not remote then)."""
    if "://" in value or value.startswith("git@") or "?ref=" in value:
        return "a remote URL"
    path = value.split("=", 1)[1] if "=" in value and key in ("files", "envs", "env") else value
    if path.startswith(("/", "~", "\\")):
        return "an absolute path"
    if _SCHEME.match(path) and not path.startswith("./"):
        return "a remote URL"
    if ".." in path.replace("\\", "/").split("/"):
        joined = posixpath.normpath(posixpath.join(base, path))
        if joined == ".." or joined.startswith("../"):
            return "a path that leaves the bundle"
    if key in SHORTHAND_KEYS and _REMOTE_HOST.match(path) and not exists:
        return "a remote reference"
    return None


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
        return f"image '{excerpt(image)}' has no tag or digest"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image '{excerpt(image)}' uses the mutable tag ':latest'"
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
