"""The preview's Argo CD Application: fixed project, finalizer, hardened sync, two sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from previewd.core.render.notifications import subscription_annotations
from previewd.core.render.yamlout import Manifest

if TYPE_CHECKING:
    from previewd.config import Config, RepositoryConfig
    from previewd.core.render.preview import PreviewNames

FINALIZER = "resources-finalizer.argocd.argoproj.io"
SYNC_OPTIONS = ["FailOnSharedResource=true", "PruneLast=true", "PrunePropagationPolicy=foreground"]


def gitops_repo_url(config: Config) -> str:
    return config.argocd.gitops_repo_url or config.gitops.url


def application(
    config: Config,
    repo: RepositoryConfig,
    names: PreviewNames,
    labels: dict[str, str],
    annotations: dict[str, str],
    head_sha: str,
    baseline_path: str,
    images: dict[str, str],
    redeploy: int = 0,
) -> Manifest:
    bundle: dict[str, Any] = {
        "repoURL": repo.deploy.repo_url,
        "targetRevision": head_sha,
        "path": repo.deploy.path,
    }
    if images:
        # Kustomize image override: the bundle's image name, pinned to the registry digest.
        bundle["kustomize"] = {"images": [f"{n}={ref}" for n, ref in sorted(images.items())]}
    if redeploy:
        # Lands on every resource and pod template, so Argo CD rolls the workloads at the same commit.
        bundle.setdefault("kustomize", {})["commonAnnotations"] = {"previewd.io/redeploy": str(int(redeploy))}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": names.application,
            "namespace": config.argocd.namespace,
            "labels": labels,
            "annotations": {**annotations, **subscription_annotations(config)},
            "finalizers": [FINALIZER],
        },
        "spec": {
            # Fixed from config, never from PR data.
            "project": config.argocd.project,
            "destination": {
                "server": config.argocd.destination_server,
                "namespace": names.namespace,
            },
            "sources": [
                bundle,
                {
                    "repoURL": gitops_repo_url(config),
                    "targetRevision": config.gitops.branch,
                    "path": baseline_path,
                },
            ],
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": list(SYNC_OPTIONS),
            },
        },
    }
