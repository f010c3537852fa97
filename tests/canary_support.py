"""The issue's canary example, as a repository entry for ``tests.support.base_config``."""

from __future__ import annotations

from typing import Any

from tests.support import REPO


def canary_block(kind: str = "httproute", services: bool = True) -> dict[str, Any]:
    edge: dict[str, Any] = {"kind": kind, "host": "api.dev.example.com", "service": "api", "port": 80,
                            "target_port": 8080}
    if kind == "httproute":
        edge["gateway"] = {"name": "edge", "namespace": "gateway-system"}
    else:
        edge["entry_points"] = ["websecure"]
    block: dict[str, Any] = {
        "header": "X-Canary",
        "stable_namespace": "apps",
        "edge": edge,
        "grpc": [{"service": "store", "port": 80, "target_port": 9090}],
    }
    if services:
        block["services"] = [{"name": "api", "paths": ["services/api/**"]},
                             {"name": "store", "paths": ["services/store/**", "proto/*.proto"]}]
    return block


def with_canary(config: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """``config`` (from base_config) with the canary block on its repository."""
    repo = config["repositories"][0]
    assert repo["name"] == REPO
    repo["canary"] = canary_block(**kw)
    return config
