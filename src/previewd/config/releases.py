"""``releases``: the registry-driven release controller."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, model_validator

from previewd.config.base import Duration, Strict
from previewd.config.services import GitopsConfig


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
    """The release controller: registry push -> the one app-env -> release.yaml."""

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
