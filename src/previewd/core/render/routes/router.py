"""The per-preview router Application: deploys the canary routes into the stable namespace.

It lives in the narrow routes project (only route kinds, only the stable namespaces), never in
the previews project, which therefore never gains a stable namespace. Its finalizer makes
Argo CD delete the routes when the Application goes, which happens in the same commit that
removes the preview, so no route outlives its PR namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from previewd import naming
from previewd.core.render.application import FINALIZER, SYNC_OPTIONS, gitops_repo_url
from previewd.core.render.yamlout import Manifest

if TYPE_CHECKING:
    from previewd.config import Config

ROUTES_DIR = "routes"
ROUTER_FILE = "router-application.yaml"
# After the preview Application on creation; Argo CD prunes in reverse wave order, so the
# router (and its routes) goes before the preview namespace.
_ROUTER_WAVE = {"argocd.argoproj.io/sync-wave": "1"}


ROUTER_SUFFIX = ".routes"


def router_name(application: str) -> str:
    """``<application>.routes``: preview Application names are DNS labels (no dot), so no
    repository's preview Application can ever take this name."""
    return naming.bounded(application, naming.MAX_LABEL - len(ROUTER_SUFFIX)) + ROUTER_SUFFIX


def router_application(config: Config, application: str, stable_namespace: str, directory: str,
                       labels: dict[str, str], annotations: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": router_name(application),
            "namespace": config.argocd.namespace,
            "labels": labels,
            "annotations": {**annotations, **_ROUTER_WAVE},
            "finalizers": [FINALIZER],
        },
        "spec": {
            "project": config.argocd.routes_project,
            "destination": {"server": config.argocd.destination_server, "namespace": stable_namespace},
            "source": {
                "repoURL": gitops_repo_url(config),
                "targetRevision": config.gitops.branch,
                "path": f"{directory}/{ROUTES_DIR}",
            },
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": list(SYNC_OPTIONS),
            },
        },
    }
