"""What every route renderer receives."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RouteSpec:
    name: str
    namespace: str
    host: str
    service: str
    port: int
    gateway_name: str
    gateway_namespace: str
    labels: dict[str, str]
