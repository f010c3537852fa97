"""The GitOps contract of the release controller: ``app-env.yaml`` (AppEnvironment) and ``release.yaml``
(AppRelease), apiVersion ``idp.meshcloud.io/v1alpha1``.

Strict: unknown fields are errors (the platform template honours only contract fields), so a
typo cannot silently be ignored. Every problem names its field path. The configured set of
environments is passed as validation context (``{"environments": [...]}``); without it any
DNS-label environment name is accepted. ``published_schemas`` is what ``schemas/`` holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from previewd.errors import validation_problems
from previewd.images import SHA256_DIGEST, TAG_PATTERN
from previewd.naming import DNS_LABEL_PATTERN, DNS_NAME_PATTERN, PLATFORM_PREFIX
from previewd.releases.contract_base import Contract
from previewd.releases.matching import Repository, RepositoryError, normalise
from previewd.releases.semver import parse_range
from previewd.releases.workload import Probes, RunAs

API_VERSION = "idp.meshcloud.io/v1alpha1"
APP_ENV_FILE = "app-env.yaml"
RELEASE_FILE = "release.yaml"
APP_PREFIX = "app-"

DnsLabel = Annotated[str, StringConstraints(pattern=DNS_LABEL_PATTERN)]
Quantity = Annotated[
    str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=256)]
# The contract's reference example carries the placeholder "sha256:...", so the contract only requires
# <algorithm>:<encoded>; rendering insists on a full sha256 digest before it pins an image.
Digest = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:\S+$")]
Tag = Annotated[str, StringConstraints(pattern=rf"^{TAG_PATTERN}$")]


def _repository(value: str) -> str:
    try:
        normalise(value)
    except RepositoryError as err:
        raise ValueError(str(err)) from None
    return value


class Metadata(Contract):
    tenant: DnsLabel
    app: DnsLabel
    environment: DnsLabel

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str, info: ValidationInfo) -> str:
        allowed = (info.context or {}).get("environments")
        if allowed is not None and value not in allowed:
            raise ValueError(f"{value!r} is not a configured environment ({', '.join(allowed)})")
        return value


class AppEnvMetadata(Metadata):
    name: DnsLabel | None = None  # human-friendly; never used for addressing


class Target(Contract):
    # The prefix rule is in the published schema too, so editors and CI see it.
    namespace: DnsLabel = Field(json_schema_extra={"allOf": [{"pattern": f"^{APP_PREFIX}"}]})
    cluster: DnsLabel | None = None

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if value.startswith(PLATFORM_PREFIX):
            raise ValueError(f"{value!r}: '{PLATFORM_PREFIX}' namespaces belong to the platform")
        if not value.startswith(APP_PREFIX):
            raise ValueError(f"{value!r}: application namespaces must start with '{APP_PREFIX}'")
        return value


class DeployPolicy(Contract):
    """``mode`` defaults per environment (manual for the configured manual environments).
    ``tagPattern`` (a regular expression the whole tag must match) or ``semver`` (a range such
    as ``>=1.2.0 <2`` or ``^1.4``) limits which tags are released."""

    mode: Literal["auto", "manual"] | None = None
    tagPattern: str | None = None
    semver: str | None = None

    @field_validator("tagPattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(f"not a regular expression: {err}") from None
        return value

    @field_validator("semver")
    @classmethod
    def _semver(cls, value: str | None) -> str | None:
        if value is not None:
            parse_range(value)
        return value

    @model_validator(mode="after")
    def _one_filter(self) -> DeployPolicy:
        if self.tagPattern is not None and self.semver is not None:
            raise ValueError("set tagPattern or semver, not both")
        return self


class RegistryMapping(Contract):
    provider: DnsLabel | None = None
    repository: str
    deployPolicy: DeployPolicy = Field(default_factory=DeployPolicy)

    _check_repository = field_validator("repository")(_repository)


class Service(Contract):
    port: int = Field(ge=1, le=65535)
    protocol: Literal["http", "grpc"] = "http"


class Scaling(Contract):
    replicas: int = Field(ge=0, le=1000)


class ResourceSet(Contract):
    cpu: Quantity
    memory: Quantity


class Resources(Contract):
    requests: ResourceSet
    limits: ResourceSet


class Runtime(Contract):
    service: Service
    scaling: Scaling
    resources: Resources
    probes: Probes = Field(default_factory=Probes)
    runAs: RunAs = Field(default_factory=RunAs)


class Tls(Contract):
    enabled: bool = False


class Ingress(Contract):
    enabled: bool = False
    host: Annotated[str, StringConstraints(
        pattern=DNS_NAME_PATTERN,
        max_length=253)] | None = None
    path: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~/-]*$")] = "/"
    tls: Tls = Field(default_factory=Tls)

    @model_validator(mode="after")
    def _host_when_enabled(self) -> Ingress:
        if self.enabled and self.host is None:
            raise ValueError("host is required when ingress is enabled")
        return self


class EnvVar(Contract):
    name: EnvName
    value: str


class BuildingBlockRef(Contract):
    ref: DnsLabel


class AppConfig(Contract):
    env: list[EnvVar] = Field(default_factory=list)
    buildingBlocks: list[BuildingBlockRef] = Field(default_factory=list)

    @field_validator("env")
    @classmethod
    def _unique(cls, value: list[EnvVar]) -> list[EnvVar]:
        names = [v.name for v in value]
        if len(set(names)) != len(names):
            raise ValueError("an environment variable is listed twice")
        return value


class ReleaseChannel(Contract):
    track: Literal["stable", "canary"] = "stable"


class AppEnvSpec(Contract):
    target: Target
    registry: RegistryMapping
    runtime: Runtime
    ingress: Ingress | None = None
    config: AppConfig | None = None
    release: ReleaseChannel | None = None


class AppEnvironment(Contract):
    apiVersion: Literal["idp.meshcloud.io/v1alpha1"]
    kind: Literal["AppEnvironment"]
    metadata: AppEnvMetadata
    spec: AppEnvSpec

    @property
    def repository(self) -> Repository:
        return normalise(self.spec.registry.repository)

    def mode(self, manual_environments: Sequence[str]) -> str:
        """The effective deploy mode: explicit, else manual for manual environments."""
        explicit = self.spec.registry.deployPolicy.mode
        if explicit is not None:
            return explicit
        return "manual" if self.metadata.environment in manual_environments else "auto"


class Image(Contract):
    repository: str
    tag: Tag | None = None
    digest: Digest | None = None

    _check_repository = field_validator("repository")(_repository)

    @model_validator(mode="after")
    def _reference(self) -> Image:
        if self.tag is None and self.digest is None:
            raise ValueError("set digest (preferred) or tag")
        return self

    @property
    def pinned(self) -> str | None:
        """``repository@sha256:...`` when the digest is a full sha256 digest."""
        if self.digest and SHA256_DIGEST.match(self.digest):
            return f"{self.repository}@{self.digest}"
        return None


class AppReleaseSpec(Contract):
    image: Image
    observedAt: Annotated[str, StringConstraints(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")] | None = None
    observedBy: str | None = None


class AppRelease(Contract):
    apiVersion: Literal["idp.meshcloud.io/v1alpha1"]
    kind: Literal["AppRelease"]
    metadata: Metadata
    spec: AppReleaseSpec


class ContractError(ValueError):
    """A contract file is invalid; ``problems`` are ``field.path: reason`` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def parse_app_env(data: Any, source: str = APP_ENV_FILE,
                  environments: Sequence[str] | None = None) -> AppEnvironment:
    """Validate parsed YAML as an AppEnvironment; ContractError names every bad field."""
    context = {"environments": list(environments)} if environments is not None else None
    try:
        return AppEnvironment.model_validate(data, context=context)
    except ValidationError as err:
        raise ContractError(source, validation_problems(err, unknown="unknown field")) from None


def parse_release(data: Any, source: str = RELEASE_FILE,
                  environments: Sequence[str] | None = None) -> AppRelease:
    """Validate parsed YAML as an AppRelease; ContractError names every bad field."""
    context = {"environments": list(environments)} if environments is not None else None
    try:
        return AppRelease.model_validate(data, context=context)
    except ValidationError as err:
        raise ContractError(source, validation_problems(err, unknown="unknown field")) from None


def same_owner(env: AppEnvironment, release: AppRelease) -> list[str]:
    """Problems when ``release.yaml`` does not belong to its directory's ``app-env.yaml``."""
    problems = []
    for key in ("tenant", "app", "environment"):
        if getattr(env.metadata, key) != getattr(release.metadata, key):
            problems.append(f"metadata.{key}: {getattr(release.metadata, key)!r} differs from "
                            f"app-env.yaml's {getattr(env.metadata, key)!r}")
    if normalise(release.spec.image.repository) != env.repository:
        problems.append(f"spec.image.repository: {release.spec.image.repository!r} is not the "
                        f"repository app-env.yaml claims ({env.spec.registry.repository!r})")
    return problems


def published_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, as published under ``schemas/`` in the repository."""
    out = {}
    for name, model in (("app-env.schema.json", AppEnvironment), ("release.schema.json", AppRelease)):
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://previewd.dev/schemas/{name}"
        out[name] = schema
    return out

