"""The platform-namespace admission policy: namespaces named ``platform-*`` are created, changed and
deleted only by the platform's identities. A ValidatingAdmissionPolicy (built into Kubernetes
since 1.30), so no Gatekeeper or Kyverno install is needed."""

from __future__ import annotations

import json

from previewd.config import PlatformIdentities
from previewd.core.render.admission import deny_policy
from previewd.core.render.yamlout import Manifest
from previewd.naming import PLATFORM_PREFIX

POLICY = "previewd-platform-namespaces"


def _cel_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in sorted(values)) + "]"  # JSON strings are CEL strings


def platform_namespace_policy(identities: PlatformIdentities) -> list[Manifest]:
    """The policy and its binding (Deny)."""
    platform = (
        f"request.userInfo.username in {_cel_list(identities.users)} || "
        f"request.userInfo.groups.exists(g, g in {_cel_list(identities.groups)})"
    )
    rule = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE", "DELETE"],
            "resources": ["namespaces"]}
    variables = [
        # DELETE has no object and CREATE no oldObject: take the name from the one that exists.
        {"name": "name",
         "expression": "request.operation == 'DELETE' ? oldObject.metadata.name : object.metadata.name"},
        {"name": "platform", "expression": platform},
    ]
    return deny_policy(POLICY, rule, [{
        "expression": f"!variables.name.startsWith('{PLATFORM_PREFIX}') || variables.platform",
        "message": f"namespaces starting with '{PLATFORM_PREFIX}' belong to the "
                   "platform and can only be created or changed by its identities",
        "reason": "Forbidden",
    }], variables)
