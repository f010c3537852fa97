"""Argo CD Notifications wiring: the ``argocd-notifications-cm`` previewd needs and the
subscription annotations every preview Application carries, so nothing is hand-edited.

Argo CD posts to ``/hooks/argocd`` with ``Authorization: Bearer $previewd-notifications-token``,
a key of ``argocd-notifications-secret`` holding the value of ``argocd.notifications_token``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from previewd.core.render.labels import MANAGED_BY
from previewd.core.render.yamlout import Manifest

if TYPE_CHECKING:
    from previewd.config import Config

# Every name previewd adds to argocd-notifications-cm starts with this prefix, so its keys never
# collide with Argo CD's own catalog (trigger.on-deployed, template.app-deployed, ...) or with
# a site's own names, and both can live in one ConfigMap.
PREFIX = "previewd-"
SERVICE = f"{PREFIX}hooks"
SECRET_KEY = "previewd-notifications-token"
HEAD_SHA = "previewd.io/head-sha"

# trigger -> (event sent to previewd, condition). Conditions follow Argo CD's trigger catalog.
TRIGGERS = {
    f"{PREFIX}on-deployed": ("deployed", "app.status.operationState != nil and "
                    "app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'"),
    f"{PREFIX}on-health-degraded": ("health-degraded", "app.status.health.status == 'Degraded'"),
    f"{PREFIX}on-sync-failed": ("sync-failed", "app.status.operationState != nil and "
                       "app.status.operationState.phase in ['Error', 'Failed']"),
}


def subscription_annotations(config: Config) -> dict[str, str]:
    """``notifications.argoproj.io/subscribe.<trigger>.<service>`` for each trigger (if enabled)."""
    if config.argocd.notifications_token is None:
        return {}
    return {f"notifications.argoproj.io/subscribe.{trigger}.{SERVICE}": "" for trigger in TRIGGERS}


def _body(event: str) -> str:
    # Only Argo CD facts and previewd's own annotation go in; no PR text exists on the app.
    return (
        '{"event": "' + event + '", "application": "{{.app.metadata.name}}", '
        '"revision": "{{index .app.metadata.annotations "' + HEAD_SHA + '"}}", '
        '"health": "{{.app.status.health.status}}", "sync": "{{.app.status.sync.status}}"}'
    )


def notifications_configmap(config: Config) -> Manifest:
    service = {
        "url": config.argocd.notifications_url,
        "headers": [
            {"name": "Authorization", "value": f"Bearer ${SECRET_KEY}"},
            {"name": "Content-Type", "value": "application/json"},
        ],
    }
    data = {f"service.webhook.{SERVICE}": yaml.safe_dump(service, sort_keys=False)}
    for trigger, (event, condition) in TRIGGERS.items():
        template = f"{PREFIX}{event}"
        data[f"template.{template}"] = yaml.safe_dump(
            {"webhook": {SERVICE: {"method": "POST", "body": _body(event)}}}, sort_keys=False, width=1000)
        rule: dict[str, object] = {"description": f"previewd: {event}", "send": [template], "when": condition}
        if event == "deployed":
            rule["oncePer"] = "app.status.operationState.startedAt"  # once per sync (redeploys too)
        data[f"trigger.{trigger}"] = yaml.safe_dump([rule], sort_keys=False, width=1000)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-notifications-cm", "namespace": config.argocd.namespace,
                     "labels": dict(MANAGED_BY),
                     "annotations": {"previewd.io/note": (
                         "Put argocd.notifications_token into argocd-notifications-secret under key "
                         f"{SECRET_KEY}. Preview Applications carry "
                         f"notifications.argoproj.io/subscribe.<trigger>.{SERVICE} annotations. Every key "
                         f"here starts with {PREFIX}: merge them into an existing argocd-notifications-cm "
                         "with kubectl patch --type merge --patch-file argocd-notifications-cm.yaml.")}},
        "data": dict(sorted(data.items())),
    }
