"""Configuration: the only module that reads config files and the environment.

``load_config`` reads ``previewd.yaml``, substitutes ``${VAR}`` from the environment and
validates strictly (unknown keys are errors). Every problem is reported with its key path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from previewd.core import images as image_refs
from previewd.core import naming
from previewd.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


def parse_duration(value: object) -> timedelta:
    """Parse ``30s``, ``5m``, ``2h``, ``7d`` (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 5m, 2h or 7d, got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(Strict):
    listen: str = "127.0.0.1:8080"
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("expected host:port, for example 127.0.0.1:8080")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class StoreConfig(Strict):
    url: str = "sqlite:///.previewd/previewd.db"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("expected sqlite:///PATH or postgresql://...")
        return value


class GithubAuthConfig(Strict):
    """API credentials: a token, or a GitHub App (``app_id`` + ``private_key_file``)."""

    token: SecretStr | None = None
    app_id: int | None = Field(default=None, gt=0)
    private_key_file: str | None = None
    installation_id: int | None = Field(default=None, gt=0)  # unset: looked up per repository

    @model_validator(mode="after")
    def _one_mode(self) -> GithubAuthConfig:
        app = self.app_id is not None or self.private_key_file is not None or self.installation_id is not None
        if self.token is not None and app:
            raise ValueError("set either token or app_id/private_key_file, not both")
        if self.token is None and not app:
            raise ValueError("set token, or app_id and private_key_file")
        if app and (self.app_id is None or self.private_key_file is None):
            raise ValueError("a GitHub App needs both app_id and private_key_file")
        if self.token is not None and not self.token.get_secret_value().strip():
            raise ValueError("token is empty")
        return self

    def private_key(self) -> str:
        """The App's PEM private key (read here: settings is the only module reading files)."""
        if self.private_key_file is None:
            raise ConfigError(["github.auth.private_key_file: not set"])
        try:
            return Path(self.private_key_file).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError([f"github.auth.private_key_file: cannot read: {err.strerror}"]) from None


class GithubConfig(Strict):
    webhook_secret: SecretStr | None = None
    web_url: str = "https://github.com"
    api_url: str = "https://api.github.com"  # GitHub Enterprise Server: https://HOST/api/v3
    auth: GithubAuthConfig | None = None  # unset: webhook-only mode (no comments, no resync)
    resync_interval: Duration = timedelta(minutes=5)
    max_teardowns_per_resync: int = Field(default=10, ge=0)

    @field_validator("api_url", "web_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/")

    @field_validator("resync_interval")
    @classmethod
    def _interval(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


class GitopsConfig(Strict):
    url: str
    branch: str = "main"
    path: str = "previews"
    workdir: str = ".previewd/gitops-work"
    author_name: str = "previewd"
    author_email: str = "previewd@users.noreply.github.com"
    username: str | None = None
    password: SecretStr | None = None
    push_attempts: int = Field(default=6, ge=1, le=50)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        clean = value.strip("/")
        if not clean or any(p in ("", ".", "..") for p in clean.split("/")):
            raise ValueError("must be a relative path without '.' or '..' segments")
        return clean

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", value) or ".." in value:
            raise ValueError("not a safe branch name")
        return value


class ArgoCDConfig(Strict):
    namespace: str = "argocd"
    project: str = "previews"
    destination_server: str = "https://kubernetes.default.svc"
    gitops_repo_url: str | None = None  # the URL Argo CD reads the GitOps repo from
    root_project: str = "previews-root"
    url: str | None = None  # Argo CD web UI, for links in PR comments
    notifications_token: SecretStr | None = None  # bearer token Argo CD sends to /hooks/argocd
    # Where Argo CD Notifications reaches previewd (written into argocd-notifications-cm).
    notifications_url: str = "http://previewd.previewd.svc:8080/hooks/argocd"

    @field_validator("url", "notifications_url")
    @classmethod
    def _web(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("namespace", "project", "root_project")
    @classmethod
    def _dns(cls, value: str) -> str:
        if not naming.is_dns_label(value):
            raise ValueError("must be a DNS-1123 label (lower-case letters, digits, '-')")
        return value


class TriggerConfig(Strict):
    labels: list[str] = Field(default_factory=lambda: ["preview"])
    exclude_labels: list[str] = Field(default_factory=lambda: ["no-preview"])
    drafts: bool = False
    forks: bool = False
    bots: bool = False


class DeployConfig(Strict):
    repo_url: str
    path: str = "deploy/preview"

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        clean = value.strip("/")
        if not clean or any(p in ("", ".", "..") for p in clean.split("/")):
            raise ValueError("must be a relative path without '.' or '..' segments")
        return clean


class GatewayRef(Strict):
    name: str
    namespace: str

    @field_validator("name", "namespace")
    @classmethod
    def _dns(cls, value: str) -> str:
        if not naming.is_dns_label(value):
            raise ValueError("must be a DNS-1123 label")
        return value


class RouteConfig(Strict):
    kind: str = "httproute"
    service: str
    port: int = Field(gt=0, lt=65536)
    gateway: GatewayRef

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        if not naming.is_dns_label(value):
            raise ValueError("must be a DNS-1123 label")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        from previewd.core.render.routes import ROUTE_KINDS

        if value not in ROUTE_KINDS:
            raise ValueError(f"unknown route kind; expected one of {sorted(ROUTE_KINDS)}")
        return value


class ImageConfig(Strict):
    """An image of the deploy bundle that previews wait for and pin by digest."""

    name: str  # as written in the deploy bundle, e.g. ghcr.io/acme/shop
    repository: str | None = None  # where CI pushes PR builds; defaults to name
    tag: str = "pr-{number}-{sha}"  # {sha}, {sha7}, {sha8}, {number}

    @field_validator("name", "repository")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None:
            image_refs.check_image_name(value)
        return value

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        image_refs.check_tag_template(value)
        return value

    @property
    def source(self) -> str:
        """The repository PR builds are pushed to."""
        return self.repository or self.name


class RepositoryConfig(Strict):
    name: str
    trigger: TriggerConfig = Field(default_factory=TriggerConfig)
    deploy: DeployConfig
    host: str | None = None
    route: RouteConfig | None = None
    images: list[ImageConfig] = Field(default_factory=list)
    image_wait_timeout: Duration = timedelta(minutes=30)
    cleanup_tags: bool = False  # delete the PR's tags (only those its tag template makes)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _REPO_NAME.match(value):
            raise ValueError("expected owner/name as on GitHub")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None:
            naming.check_host_template(value)
        return value

    @model_validator(mode="after")
    def _route_needs_host(self) -> RepositoryConfig:
        if self.route is not None and self.host is None:
            raise ValueError("route is set but host is not")
        return self

    @model_validator(mode="after")
    def _images(self) -> RepositoryConfig:
        names = [i.name for i in self.images]
        if len(set(names)) != len(names):
            raise ValueError("images: an image name is listed twice")
        if self.cleanup_tags and not self.images:
            raise ValueError("cleanup_tags is set but no images are")
        for image in self.images if self.cleanup_tags else []:
            if "{number}" not in image.tag:
                # Without the PR number, one PR's tags cannot be told from another's.
                raise ValueError(f"cleanup_tags needs {{number}} in the tag of {image.name}")
        if self.image_wait_timeout <= timedelta(0):
            raise ValueError("image_wait_timeout must be positive")
        return self

    @property
    def key(self) -> str:
        """Case-insensitive identity of the repository (GitHub names are case-insensitive)."""
        return self.name.lower()


class QuotaConfig(Strict):
    hard: dict[str, str] = Field(
        default_factory=lambda: {
            "requests.cpu": "2",
            "requests.memory": "4Gi",
            "limits.cpu": "4",
            "limits.memory": "8Gi",
            "persistentvolumeclaims": "0",
            "services.loadbalancers": "0",
            "services.nodeports": "0",
            "count/pods": "20",
            "count/services": "10",
            "count/configmaps": "10",
            "count/secrets": "10",
        }
    )


class LimitRangeConfig(Strict):
    default: dict[str, str] = Field(default_factory=lambda: {"cpu": "500m", "memory": "512Mi"})
    default_request: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )
    max: dict[str, str] = Field(default_factory=lambda: {"cpu": "2", "memory": "4Gi"})


class EgressRule(Strict):
    """An extra egress allowance, for example to shared services."""

    namespace: str
    pod_labels: dict[str, str] = Field(default_factory=dict)
    ports: list[int] = Field(default_factory=list)
    protocol: str = "TCP"

    @field_validator("namespace")
    @classmethod
    def _dns(cls, value: str) -> str:
        if not naming.is_dns_label(value):
            raise ValueError("must be a DNS-1123 label")
        return value


class NetworkConfig(Strict):
    ingress_namespaces: list[str] = Field(default_factory=lambda: ["ingress-nginx"])
    dns_namespace: str = "kube-system"
    extra_egress: list[EgressRule] = Field(default_factory=list)


class PreviewDefaults(Strict):
    namespace_template: str = "pr-{number}-{repo}"
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    limit_range: LimitRangeConfig = Field(default_factory=LimitRangeConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)

    @field_validator("namespace_template")
    @classmethod
    def _template(cls, value: str) -> str:
        naming.check_namespace_template(value)
        return value


class RegistryConfig(Strict):
    """A container registry previewd reads digests from (shared by previews and releases)."""

    host: str  # host[:port] as written in image references, e.g. registry.example.com
    insecure: bool = False  # true allows plain http (local registries)
    username: str | None = None
    password: SecretStr | None = None
    notifications_token: SecretStr | None = None  # bearer token on /hooks/registry/<kind>

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", value):
            raise ValueError("expected host or host:port, without scheme or path")
        return value.lower()


class ReleaseGitopsConfig(GitopsConfig):
    """The GitOps state repository the release controller scans and writes ``release.yaml`` in."""

    path: str = "workspaces"
    workdir: str = ".previewd/releases-work"


class PlatformIdentities(Strict):
    """Who may create or change ``platform-*`` namespaces (the admission policy's allow-list)."""

    users: list[str] = Field(
        default_factory=lambda: ["system:serviceaccount:argocd:argocd-application-controller"]
    )
    groups: list[str] = Field(default_factory=lambda: ["system:masters"])


class ReleasesConfig(Strict):
    """The release controller (seed 003): registry push -> the one app-env -> release.yaml."""

    gitops: ReleaseGitopsConfig
    environments: list[str] = Field(default_factory=lambda: ["dev", "staging", "prod"], min_length=1)
    manual_environments: list[str] = Field(default_factory=lambda: ["prod"])  # default mode manual
    api_token: SecretStr | None = None  # bearer token for POST /api/releases/promote
    poll_interval: Duration = timedelta(minutes=10)
    poll_max_tags: int = Field(default=20, ge=1, le=1000)  # new tags HEADed per repository and poll
    observed_by: str = "platform-release-controller"
    platform_identities: PlatformIdentities = Field(default_factory=PlatformIdentities)

    @model_validator(mode="after")
    def _known_environments(self) -> ReleasesConfig:
        unknown = sorted(set(self.manual_environments) - set(self.environments))
        if unknown:
            raise ValueError(f"manual_environments {unknown} are not in environments")
        return self


class Config(Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    github: GithubConfig = Field(default_factory=GithubConfig)
    gitops: GitopsConfig
    argocd: ArgoCDConfig = Field(default_factory=ArgoCDConfig)
    previews: PreviewDefaults = Field(default_factory=PreviewDefaults)
    repositories: list[RepositoryConfig] = Field(default_factory=list)
    registries: list[RegistryConfig] = Field(default_factory=list)
    releases: ReleasesConfig | None = None

    @model_validator(mode="after")
    def _release_workdir(self) -> Config:
        # Two workspaces sharing one clone would reset each other's work tree.
        if self.releases is not None and self.releases.gitops.workdir == self.gitops.workdir:
            raise ValueError("releases.gitops.workdir must differ from gitops.workdir")
        return self

    @model_validator(mode="after")
    def _registries(self) -> Config:
        # A notification's token names its registry: hosts and tokens must be unique.
        hosts = [r.host for r in self.registries]
        if len(set(hosts)) != len(hosts):
            raise ValueError("registries: a host is listed twice")
        tokens = [r.notifications_token.get_secret_value() for r in self.registries
                  if r.notifications_token is not None]
        if len(set(tokens)) != len(tokens):
            raise ValueError("registries: two registries share a notifications_token")
        return self

    @model_validator(mode="after")
    def _unique(self) -> Config:
        seen: set[str] = set()
        for repo in self.repositories:
            if repo.key in seen:
                raise ValueError(f"repository {repo.name} is listed twice")
            seen.add(repo.key)
        clash = naming.find_name_collision(
            self.previews.namespace_template, [r.name for r in self.repositories]
        )
        if clash:
            raise ValueError(
                f"repositories {clash[0]} and {clash[1]} can produce the same namespace "
                f"name from {self.previews.namespace_template!r}; add {{owner}} or a "
                "distinct prefix to previews.namespace_template"
            )
        return self

    def registry(self, host: str) -> RegistryConfig | None:
        """The configured registry for ``host`` (case-insensitive), if any."""
        wanted = host.lower()
        return next((r for r in self.registries if r.host == wanted), None)

    def repository(self, full_name: str) -> RepositoryConfig | None:
        """The configured repository named ``full_name`` (case-insensitive), if any."""
        wanted = full_name.lower()
        return next((r for r in self.repositories if r.key == wanted), None)


def substitute_env(data: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` in every string; a missing variable is an error naming the key."""
    if isinstance(data, dict):
        return {k: substitute_env(v, env, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute_env(v, env, f"{path}.{i}") for i, v in enumerate(data)]
    if isinstance(data, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError([f"{path or '<root>'}: environment variable {name} is not set"])
            return env[name]

        return _ENV_REF.sub(replace, data)
    return data


def format_validation_error(error: ValidationError) -> list[str]:
    """One line per problem: ``key.path: reason``."""
    problems = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "<root>"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(f"{loc}: {message}")
    return problems


def parse_config(data: Any, env: Mapping[str, str], source: str = "config") -> Config:
    """Validate already-parsed YAML data into a Config."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["<root>: expected a mapping of sections"], source)
    try:
        substituted = substitute_env(data, env)
    except ConfigError as err:
        raise ConfigError(err.problems, source) from None
    try:
        return Config.model_validate(substituted)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err), source) from None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a ``previewd.yaml``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"cannot read {file}: {err.strerror}"], str(file)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError([f"not valid YAML: {err}"], str(file)) from None
    return parse_config(data, os.environ if env is None else env, str(file))


STATE_DIR = Path(".previewd")


def embedded_defaults(state_dir: Path = STATE_DIR) -> Config:
    """The configuration ``previewd serve`` runs on when no config file is given."""
    return Config(
        store=StoreConfig(url=f"sqlite:///{state_dir}/previewd.db"),
        gitops=GitopsConfig(url=str(state_dir / "gitops.git"), workdir=str(state_dir / "gitops-work")),
    )
