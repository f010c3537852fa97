"""The whole ``previewd.yaml`` and the checks that span sections."""

from __future__ import annotations

from pydantic import Field, model_validator

from previewd import naming
from previewd.config.base import Strict
from previewd.config.canary_checks import check_canary_hosts, check_stable_namespaces
from previewd.config.previews import PreviewDefaults
from previewd.config.releases import ReleasesConfig
from previewd.config.repositories import RepositoryConfig
from previewd.config.services import (
    ArgoCDConfig,
    GithubConfig,
    GitopsConfig,
    RegistryConfig,
    ServerConfig,
    StoreConfig,
)


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

    @model_validator(mode="after")
    def _canary_hosts(self) -> Config:
        check_canary_hosts(self.repositories)
        check_stable_namespaces(self.repositories, self.previews.namespace_template,
                                self.argocd.namespace)
        projects = [self.argocd.project, self.argocd.root_project, self.argocd.routes_project]
        if len(set(projects)) != len(projects):
            raise ValueError("argocd.project, root_project and routes_project must differ")
        return self

    def repository(self, full_name: str) -> RepositoryConfig | None:
        """The configured repository named ``full_name`` (case-insensitive), if any."""
        wanted = full_name.lower()
        return next((r for r in self.repositories if r.key == wanted), None)
