"""The oldest versions of the systems previewd installs into that keep its guarantees, each
with the feature that sets it. docs/supported-versions.md states them; a test keeps both equal."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")


@dataclass(frozen=True)
class Minimum:
    system: str
    version: tuple[int, int, int]
    needed_for: str

    @property
    def text(self) -> str:
        return ".".join(str(n) for n in self.version)


# admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (the admission guard and the
# platform-namespace policy) is GA, and enabled by default, from Kubernetes 1.30.
KUBERNETES = Minimum("Kubernetes", (1, 30, 0), "ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1)")
# AppProject clusterResourceWhitelist[].name (only Namespaces named pr-*): older Argo CD drops
# the field, and the previews project may then create any Namespace.
ARGOCD = Minimum("Argo CD", (3, 3, 0), "AppProject clusterResourceWhitelist[].name")
# HTTPRoute in gateway.networking.k8s.io/v1 (parentRefs, hostnames, backendRefs).
GATEWAY_API = Minimum("Gateway API", (1, 0, 0), "HTTPRoute gateway.networking.k8s.io/v1")

MINIMUMS = (KUBERNETES, ARGOCD, GATEWAY_API)


def parse_version(text: str) -> tuple[int, int, int]:
    """``3.3.1``, ``v3.3.1+abc``, ``1.30`` -> (major, minor, patch); ValueError otherwise."""
    match = _VERSION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a version such as 3.3.0")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def below_minimum(minimum: Minimum, version: str) -> str | None:
    """Why ``version`` of ``minimum.system`` is too old for previewd, or None if it is not."""
    if parse_version(version) >= minimum.version:
        return None
    return (f"{minimum.system} {version} is older than {minimum.text}, the first version with "
            f"{minimum.needed_for}")
