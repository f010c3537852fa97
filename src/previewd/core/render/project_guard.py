"""The admission guard: every preview Application uses the previews project, labelled or not.

An Application is a preview Application when any of these holds, so dropping a label or
choosing a name never opts out:

- its destination namespace matches the preview namespace pattern (``pr-*``);
- the previews root created it: Argo CD's tracking annotation
  (``argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>``) or the
  label tracking method (``app.kubernetes.io/instance: <app>``, ``<namespace>_<app>`` for
  Applications outside the control-plane namespace) names the root application;
- it carries previewd's ``managed-by`` label, unless it is the root application itself (which
  uses the root project, confined to Applications in the Argo CD namespace).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from previewd import naming
from previewd.core.render.admission import deny_policy
from previewd.core.render.labels import MANAGED_BY
from previewd.core.render.yamlout import Manifest

if TYPE_CHECKING:
    from previewd.config import Config

ROOT_APP = "previewd-previews"
GUARD = "previewd-preview-project"
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
TRACKING_LABEL = "app.kubernetes.io/instance"


def _str(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a CEL string literal


def _has_entry(field: str, key: str) -> str:
    return f"has(object.metadata.{field}) && {_str(key)} in object.metadata.{field}"


def guard_variables(config: Config) -> list[dict[str, str]]:
    """The policy's named CEL expressions (each a bool), in evaluation order."""
    ((label, value),) = MANAGED_BY.items()
    prefix = naming.literal_prefix(config.previews.namespace_template)
    ns = config.argocd.namespace
    annotation = f"object.metadata.annotations[{_str(TRACKING_ANNOTATION)}]"
    instance = f"object.metadata.labels[{_str(TRACKING_LABEL)}]"
    destination = "has(object.spec.destination) && has(object.spec.destination.namespace)"
    return [
        {"name": "previewTarget",
         "expression": f"{destination} && object.spec.destination.namespace.startsWith({_str(prefix)})"},
        {"name": "createdByRoot",
         "expression": f"({_has_entry('annotations', TRACKING_ANNOTATION)} && "
                       f"{annotation}.startsWith({_str(ROOT_APP + ':')})) || "
                       f"({_has_entry('labels', TRACKING_LABEL)} && "
                       f"{instance} in [{_str(ROOT_APP)}, {_str(f'{ns}_{ROOT_APP}')}])"},
        {"name": "labelled",
         "expression": f"{_has_entry('labels', label)} && object.metadata.labels[{_str(label)}] == {_str(value)}"},
        {"name": "isRoot",
         "expression": f"object.metadata.name == {_str(ROOT_APP)} && has(object.spec.project) && "
                       f"object.spec.project == {_str(config.argocd.root_project)} && {destination} && "
                       f"object.spec.destination.namespace == {_str(ns)}"},
    ]


def guard_expression(config: Config) -> str:
    """True when the Application is allowed. With canaries, a router Application may use the
    routes project (itself confined to route kinds in the stable namespaces), as long as it does
    not target a preview namespace."""
    allowed = f"(has(object.spec.project) && object.spec.project == {_str(config.argocd.project)})"
    if any(r.canary for r in config.repositories):
        allowed += (f" || (has(object.spec.project) && object.spec.project == "
                    f"{_str(config.argocd.routes_project)} && !variables.previewTarget)")
    return ("!(variables.previewTarget || variables.createdByRoot || (variables.labelled && !variables.isRoot)) || "
            + allowed)


def admission_guard(config: Config) -> list[Manifest]:
    """Reject every preview Application whose project is not the previews project."""
    project = config.argocd.project
    rule = {"apiGroups": ["argoproj.io"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
            "resources": ["applications"]}
    return deny_policy(GUARD, rule, [{
        "expression": guard_expression(config),
        "message": f"Applications that target preview namespaces, carry previewd's label or come from "
                   f"the previews root must use the '{project}' project",
        "reason": "Forbidden",
    }], guard_variables(config))
