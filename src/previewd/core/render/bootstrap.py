"""One-time install manifests: previews AppProject, root app-of-apps, admission guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from previewd import naming
from previewd.core import versions
from previewd.core.render.application import gitops_repo_url
from previewd.core.render.labels import MANAGED_BY
from previewd.core.render.notifications import notifications_configmap
from previewd.core.render.platform_namespaces import platform_namespace_policy
from previewd.core.render.project_guard import ROOT_APP, admission_guard
from previewd.core.render.routes.canary import ROUTE_KINDS
from previewd.core.render.routes.router import ROUTER_FILE
from previewd.core.render.yamlout import Manifest, dump_all
from previewd.errors import PermanentError

if TYPE_CHECKING:
    from previewd.config import Config


def _app_project(config: Config, name: str, description: str, spec: Manifest) -> Manifest:
    """An Argo CD AppProject previewd bootstrap owns, in the Argo CD namespace."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": config.argocd.namespace, "labels": dict(MANAGED_BY)},
        "spec": {"description": description, **spec},
    }


def previews_project(config: Config) -> Manifest:
    """Destinations: only the preview namespace pattern; cluster kinds: only those Namespaces."""
    glob = naming.namespace_glob(config.previews.namespace_template)
    repos = sorted({r.deploy.repo_url for r in config.repositories} | {gitops_repo_url(config)})
    return _app_project(config, config.argocd.project,
                        "previewd pull-request previews (managed by previewd bootstrap)", {
        "sourceRepos": repos,
        "destinations": [{"server": config.argocd.destination_server, "namespace": glob}],
        "clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": glob}],
    })


def routes_project(config: Config) -> Manifest:
    """Canary router Applications: only route kinds, only in the configured stable namespaces."""
    stable = sorted({r.canary.stable_namespace for r in config.repositories if r.canary})
    return _app_project(config, config.argocd.routes_project,
                        "previewd canary routes in stable namespaces (managed by previewd bootstrap)", {
        "sourceRepos": [gitops_repo_url(config)],
        "destinations": [{"server": config.argocd.destination_server, "namespace": ns} for ns in stable],
        "clusterResourceWhitelist": [],
        "namespaceResourceWhitelist": [{"group": group, "kind": kind} for group, kind in ROUTE_KINDS],
    })


def root_project(config: Config) -> Manifest:
    """The root app may only create Applications in the Argo CD namespace."""
    return _app_project(config, config.argocd.root_project,
                        "previewd root: picks up preview Applications from the GitOps repo", {
        "sourceRepos": [gitops_repo_url(config)],
        "destinations": [{"server": config.argocd.destination_server, "namespace": config.argocd.namespace}],
        "clusterResourceWhitelist": [],
        "namespaceResourceWhitelist": [{"group": "argoproj.io", "kind": "Application"}],
    })


def root_application(config: Config) -> Manifest:
    """App of apps: exactly the ``application.yaml`` of each preview directory."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": ROOT_APP, "namespace": config.argocd.namespace,
                     "labels": dict(MANAGED_BY)},
        "spec": {
            "project": config.argocd.root_project,
            "destination": {"server": config.argocd.destination_server,
                            "namespace": config.argocd.namespace},
            "source": {
                "repoURL": gitops_repo_url(config),
                "targetRevision": config.gitops.branch,
                "path": config.gitops.path,
                "directory": {"recurse": True, "include": root_include(config)},
            },
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["PruneLast=true"],
            },
        },
    }


def root_include(config: Config) -> str:
    """The files of each preview directory the root app applies: its Application(s)."""
    if not any(r.canary for r in config.repositories):
        return "*/*/pr-*/application.yaml"
    return f"{{*/*/pr-*/application.yaml,*/*/pr-*/{ROUTER_FILE}}}"


def check_argocd_version(version: str) -> None:
    """PermanentError when the previews project would not hold on Argo CD ``version``."""
    try:
        problem = versions.below_minimum(versions.ARGOCD, version)
    except ValueError as err:
        raise PermanentError(f"--argocd-version: {err}") from None
    if problem:
        raise PermanentError(f"refusing to render the previews project: {problem}, without which it "
                             "may create any Namespace; upgrade Argo CD")


def bootstrap_files(config: Config, argocd_version: str | None = None) -> dict[str, bytes]:
    """File name -> YAML of every install manifest (what ``previewd bootstrap`` writes). With
    the cluster's ``argocd_version``, refuses an Argo CD too old to enforce the previews project."""
    if argocd_version is not None:
        check_argocd_version(argocd_version)
    return {
        "appproject-previews.yaml": dump_all([previews_project(config)]),
        "appproject-root.yaml": dump_all([root_project(config)]),
        **_routes_files(config),
        "root-application.yaml": dump_all([root_application(config)]),
        "admission-guard.yaml": dump_all(admission_guard(config)),
    } | _notification_files(config) | _release_files(config)


def _routes_files(config: Config) -> dict[str, bytes]:
    """The routes project, only when some repository has canaries."""
    if not any(r.canary for r in config.repositories):
        return {}
    return {"appproject-routes.yaml": dump_all([routes_project(config)])}


def _notification_files(config: Config) -> dict[str, bytes]:
    """Argo CD Notifications wiring, only when previewd is configured to receive it. Its keys
    are all ``previewd-`` names, so it merges into an existing ConfigMap (kubectl patch)."""
    if config.argocd.notifications_token is None:
        return {}
    return {"argocd-notifications-cm.yaml": dump_all([notifications_configmap(config)])}


def _release_files(config: Config) -> dict[str, bytes]:
    """The platform-namespace policy, when the release controller is configured."""
    if config.releases is None:
        return {}
    return {"platform-namespaces-policy.yaml":
            dump_all(platform_namespace_policy(config.releases.platform_identities))}
