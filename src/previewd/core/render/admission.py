"""ValidatingAdmissionPolicy + Deny binding: the one shape every previewd admission rule uses
(built into Kubernetes since 1.30, so no Gatekeeper or Kyverno install is needed)."""

from __future__ import annotations

from typing import Any

from previewd.core.render.labels import MANAGED_BY
from previewd.core.render.yamlout import Manifest

API = "admissionregistration.k8s.io/v1"


def deny_policy(
    name: str,
    rule: dict[str, Any],
    validations: list[dict[str, str]],
    variables: list[dict[str, str]] | None = None,
) -> list[Manifest]:
    """The policy matching ``rule`` (one resourceRules entry) and its binding with ``Deny``."""
    spec: dict[str, Any] = {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [rule]}}
    if variables:
        spec["variables"] = variables
    spec["validations"] = validations
    return [
        {"apiVersion": API, "kind": "ValidatingAdmissionPolicy",
         "metadata": {"name": name, "labels": dict(MANAGED_BY)}, "spec": spec},
        {"apiVersion": API, "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": name, "labels": dict(MANAGED_BY)},
         "spec": {"policyName": name, "validationActions": ["Deny"]}},
    ]
