"""Contract fields for how the platform runs the container: health probes and the user it runs
as. Defaults are safe for any image: the probes check the service port with the service's own
protocol, and the pod meets Pod Security ``restricted``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from previewd.releases.contract_base import Contract

MAX_PROBE_SECONDS = 3600
MAX_FAILURE_THRESHOLD = 100
DEFAULT_RUN_AS_USER = 10001  # numeric, so runAsNonRoot is checkable without image metadata
MAX_UID = 2**31 - 1

ProbePath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~/%?=&+-]*$", max_length=1024)]
GrpcService = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,253}$")]


class Probe(Contract):
    """One probe. ``type`` defaults to the service protocol (``http`` GETs ``path``, ``grpc``
    calls the standard gRPC health service); ``tcp`` only opens the port."""

    type: Literal["http", "grpc", "tcp"] | None = None
    path: ProbePath = "/"
    grpcService: GrpcService | None = None
    initialDelaySeconds: int = Field(default=0, ge=0, le=MAX_PROBE_SECONDS)
    periodSeconds: int = Field(default=10, ge=1, le=MAX_PROBE_SECONDS)
    timeoutSeconds: int = Field(default=1, ge=1, le=MAX_PROBE_SECONDS)
    failureThreshold: int = Field(default=3, ge=1, le=MAX_FAILURE_THRESHOLD)


def _startup() -> Probe:
    # Up to 5 min to start before liveness takes over, so slow starters are not killed.
    return Probe(periodSeconds=5, failureThreshold=60)


class Probes(Contract):
    """Readiness gates traffic and the rollout (a broken version never becomes Available);
    liveness restarts a hung container; startup holds liveness off while the app starts."""

    readiness: Probe = Field(default_factory=Probe)
    liveness: Probe = Field(default_factory=Probe)
    startup: Probe = Field(default_factory=_startup)


class RunAs(Contract):
    """The numeric user and group the container runs as (never root)."""

    user: int = Field(default=DEFAULT_RUN_AS_USER, ge=1, le=MAX_UID)
    group: int = Field(default=DEFAULT_RUN_AS_USER, ge=1, le=MAX_UID)
