"""Typed configuration models (pydantic, strict). Loading lives in ``previewd.settings``."""

from previewd.config.base import DnsLabel, Duration, GitUrl, HttpUrl, RelativePath, Strict, parse_duration
from previewd.config.canary import CanaryConfig, CanaryEdge, CanaryGrpc, CanaryService
from previewd.config.previews import EgressRule, LimitRangeConfig, NetworkConfig, PreviewDefaults, QuotaConfig
from previewd.config.releases import PlatformIdentities, ReleaseGitopsConfig, ReleasesConfig
from previewd.config.repositories import (
    DeployConfig,
    GatewayRef,
    ImageConfig,
    RepositoryConfig,
    RouteConfig,
    TriggerConfig,
)
from previewd.config.root import Config
from previewd.config.services import (
    ArgoCDConfig,
    GithubAuthConfig,
    GithubConfig,
    GitopsConfig,
    RegistryConfig,
    ServerConfig,
    StoreConfig,
)

__all__ = [
    "ArgoCDConfig",
    "CanaryConfig",
    "CanaryEdge",
    "CanaryGrpc",
    "CanaryService",
    "Config",
    "DeployConfig",
    "DnsLabel",
    "Duration",
    "EgressRule",
    "GatewayRef",
    "GitUrl",
    "GithubAuthConfig",
    "GithubConfig",
    "GitopsConfig",
    "HttpUrl",
    "ImageConfig",
    "LimitRangeConfig",
    "NetworkConfig",
    "PlatformIdentities",
    "PreviewDefaults",
    "QuotaConfig",
    "RegistryConfig",
    "RelativePath",
    "ReleaseGitopsConfig",
    "ReleasesConfig",
    "RepositoryConfig",
    "RouteConfig",
    "ServerConfig",
    "StoreConfig",
    "Strict",
    "TriggerConfig",
    "parse_duration",
]
