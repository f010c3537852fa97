"""``repositories[].canary``: header-routed canaries of a PR beside the stable deployment."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from previewd import naming
from previewd.changed_files import check_glob
from previewd.config.base import DnsLabel, Strict
from previewd.config.kube import Port

MAX_CANARY_SERVICES = 50  # services[] entries of one repository
MAX_SERVICE_PATHS = 50  # paths[] globs of one service
MAX_GRPC_ROUTES = 20  # grpc[] entries of one repository
MAX_ENTRY_POINTS = 10

# RFC 9110 token: the only characters a header field name may hold.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_ENTRY_POINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
# Headers a proxy consumes, rewrites or routes on itself: a canary match on one of them
# could collide with the stable route's own matching, or never reach the backend at all.
RESERVED_HEADERS = frozenset({
    "host", ":authority", "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
    "content-type", "cookie", "authorization", "forwarded", "x-forwarded-for", "x-forwarded-host",
    "x-forwarded-proto", "x-forwarded-port", "x-real-ip", "x-request-id", "via", "baggage",
    "traceparent", "tracestate", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding",
    "user-agent", "accept", "origin", "referer",
})


class CanaryGateway(Strict):
    name: DnsLabel
    namespace: DnsLabel


class CanaryEdge(Strict):
    """Where outside requests enter: a Gateway API HTTPRoute or a Traefik IngressRoute."""

    kind: Literal["httproute", "traefik"] = "httproute"
    host: str
    service: DnsLabel
    port: Port
    target_port: Port | None = None  # the pods' port, for the NetworkPolicy; default: port
    gateway: CanaryGateway | None = None  # httproute: the Gateway the stable routes attach to
    entry_points: list[str] = Field(default_factory=list)  # traefik: the entry points to listen on
    controller_namespace: DnsLabel = "traefik"  # traefik: where Traefik runs (NetworkPolicy)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("the canary host is the stable host: no {number} or other fields")
        naming.check_host_template(value)
        return value.lower()

    @field_validator("entry_points")
    @classmethod
    def _entry_points(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_ENTRY_POINTS:
            raise ValueError(f"at most {MAX_ENTRY_POINTS} entry points")
        for item in value:
            if not _ENTRY_POINT.match(item):
                raise ValueError(f"entry point {item!r} is not a Traefik entry point name")
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> CanaryEdge:
        if self.kind == "httproute" and self.gateway is None:
            raise ValueError("edge.kind httproute needs edge.gateway {name, namespace}")
        if self.kind == "traefik" and self.gateway is not None:
            raise ValueError("edge.gateway is for httproute; traefik uses edge.entry_points")
        if self.kind == "httproute" and self.entry_points:
            raise ValueError("edge.entry_points is for traefik")
        return self

    @property
    def pod_port(self) -> int:
        return self.target_port or self.port


class CanaryGrpc(Strict):
    """An east-west gRPC Service: a GRPCRoute on its apex Service in the stable namespace."""

    service: DnsLabel
    port: Port
    target_port: Port | None = None

    @property
    def pod_port(self) -> int:
        return self.target_port or self.port


class CanaryService(Strict):
    """A service of a monorepo and the paths whose change makes it run as a canary."""

    name: DnsLabel
    paths: list[str]

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        if not value or len(value) > MAX_SERVICE_PATHS:
            raise ValueError(f"expected 1 to {MAX_SERVICE_PATHS} path globs")
        for glob in value:
            check_glob(glob)
        return value


class CanaryConfig(Strict):
    header: str = "X-Canary"
    stable_namespace: DnsLabel
    edge: CanaryEdge | None = None
    grpc: list[CanaryGrpc] = Field(default_factory=list)
    services: list[CanaryService] | None = None  # None: every routed service is a canary

    @field_validator("header")
    @classmethod
    def _header(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError("must be an HTTP header name (RFC 9110 token, at most 64 characters)")
        if value.lower() in RESERVED_HEADERS or value.lower().startswith((":", "grpc-")):
            raise ValueError(f"{value} is a header proxies route on or rewrite themselves; "
                             "choose a header of your own such as X-Canary")
        return value

    @model_validator(mode="after")
    def _routes(self) -> CanaryConfig:
        if self.edge is None and not self.grpc:
            raise ValueError("canary needs edge, grpc or both")
        if len(self.grpc) > MAX_GRPC_ROUTES:
            raise ValueError(f"at most {MAX_GRPC_ROUTES} grpc entries")
        grpc = [g.service for g in self.grpc]
        if len(set(grpc)) != len(grpc):
            raise ValueError("grpc: a service is listed twice")
        if self.services is not None:
            if len(self.services) > MAX_CANARY_SERVICES:
                raise ValueError(f"at most {MAX_CANARY_SERVICES} services")
            names = [s.name for s in self.services]
            if len(set(names)) != len(names):
                raise ValueError("services: a name is listed twice")
            unmapped = sorted(set(self.routed_services) - set(names))
            if unmapped:
                raise ValueError(f"services: no paths for routed service(s) {', '.join(unmapped)}")
            unrouted = sorted(set(names) - set(self.routed_services))
            if unrouted:
                raise ValueError(f"services: {', '.join(unrouted)} is neither edge.service nor a grpc service")
        return self

    @property
    def routed_services(self) -> list[str]:
        """Every Service a canary route can point at, edge first."""
        edge = [self.edge.service] if self.edge else []
        return list(dict.fromkeys([*edge, *(g.service for g in self.grpc)]))
