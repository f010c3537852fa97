"""Sections for previewd's own services: HTTP server, store, GitHub, GitOps, Argo CD, registries."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, SecretStr, field_validator, model_validator

from previewd.config.base import DnsLabel, Duration, GitUrl, HttpUrl, RelativePath, Strict


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
        if value.startswith("postgresql://"):  # SQLAlchemy would pick psycopg2; psycopg 3 is installed
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
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


class GithubConfig(Strict):
    webhook_secret: SecretStr | None = None
    web_url: HttpUrl = "https://github.com"
    api_url: HttpUrl = "https://api.github.com"  # GitHub Enterprise Server: https://HOST/api/v3
    auth: GithubAuthConfig | None = None  # unset: webhook-only mode (no comments, no resync)
    resync_interval: Duration = timedelta(minutes=5)
    max_teardowns_per_resync: int = Field(default=10, ge=0)

    @field_validator("resync_interval")
    @classmethod
    def _interval(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


UNREADY_AFTER = timedelta(minutes=2)  # default of gitops.unready_after


class GitopsConfig(Strict):
    url: GitUrl
    branch: str = "main"
    path: RelativePath = "previews"
    workdir: str = ".previewd/gitops-work"
    author_name: str = "previewd"
    author_email: str = "previewd@users.noreply.github.com"
    username: str | None = None
    password: SecretStr | None = None
    push_attempts: int = Field(default=6, ge=1, le=50)
    unready_after: Duration = UNREADY_AFTER  # failing writes this long: /readyz says 503
    drift_check_interval: Duration = timedelta(minutes=10)

    @field_validator("unready_after", "drift_check_interval")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", value) or ".." in value:
            raise ValueError("not a safe branch name")
        return value


class ArgoCDConfig(Strict):
    namespace: DnsLabel = "argocd"
    project: DnsLabel = "previews"
    destination_server: str = "https://kubernetes.default.svc"
    gitops_repo_url: GitUrl | None = None  # the URL Argo CD reads the GitOps repo from
    root_project: DnsLabel = "previews-root"
    routes_project: DnsLabel = "previews-routes"  # canary router Applications (stable namespaces)
    url: HttpUrl | None = None  # Argo CD web UI, for links in PR comments
    notifications_token: SecretStr | None = None  # bearer token Argo CD sends to /hooks/argocd
    # Where Argo CD Notifications reaches previewd (written into argocd-notifications-cm): the
    # Service deploy/kubernetes ships (port 80, forwarding to the container's 8080).
    notifications_url: HttpUrl = "http://previewd.previewd.svc/hooks/argocd"


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
