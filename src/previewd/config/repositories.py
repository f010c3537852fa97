"""``repositories[]``: which PRs get previews, what is deployed, where it is exposed, which images gate it."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from previewd import images as image_refs
from previewd import naming
from previewd.config.base import DnsLabel, Duration, GitUrl, RelativePath, Strict
from previewd.config.canary import CanaryConfig
from previewd.config.kube import Port

# The route kinds a repository may declare; core/render/routes registers one renderer for each
# and refuses to start when the two differ.
ROUTE_KIND_NAMES = ("httproute",)
_REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")

class TriggerConfig(Strict):
    labels: list[str] = Field(default_factory=lambda: ["preview"])
    exclude_labels: list[str] = Field(default_factory=lambda: ["no-preview"])
    drafts: bool = False
    forks: bool = False
    bots: bool = False


class DeployConfig(Strict):
    repo_url: GitUrl
    path: RelativePath = "deploy/preview"


class GatewayRef(Strict):
    name: DnsLabel
    namespace: DnsLabel


class RouteConfig(Strict):
    kind: str = "httproute"
    service: DnsLabel
    port: Port
    gateway: GatewayRef

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ROUTE_KIND_NAMES:
            raise ValueError(f"unknown route kind; expected one of {sorted(ROUTE_KIND_NAMES)}")
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
    canary: CanaryConfig | None = None
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
