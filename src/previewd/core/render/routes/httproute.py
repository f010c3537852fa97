"""Gateway API HTTPRoute for a preview host."""

from __future__ import annotations

from previewd.core.render.routes.common import RouteSpec
from previewd.core.render.yamlout import Manifest


def render(spec: RouteSpec) -> list[Manifest]:
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": spec.labels},
            "spec": {
                "parentRefs": [{"name": spec.gateway_name, "namespace": spec.gateway_namespace}],
                "hostnames": [spec.host],
                "rules": [{"backendRefs": [{"name": spec.service, "port": spec.port}]}],
            },
        }
    ]
