"""Checks of canaries across repositories: a canary must never capture another route's traffic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from previewd import naming

if TYPE_CHECKING:
    from previewd.config.repositories import RepositoryConfig


def preview_host_pattern(template: str, full_name: str) -> re.Pattern[str]:
    """Every host ``naming.host_name`` can give a PR of ``full_name`` (any number)."""
    owner, _, repo = full_name.partition("/")
    marker = "\x00"
    rendered = template.format(number=marker, repo=naming.sanitize(repo), owner=naming.sanitize(owner))
    number = f"[0-9]{{1,{naming.MAX_PR_DIGITS}}}"
    return re.compile(number.join(re.escape(p) for p in rendered.lower().split(marker)) + r"\Z")


def check_stable_namespaces(repositories: Sequence[RepositoryConfig], namespace_template: str,
                            argocd_namespace: str) -> None:
    """Raise ValueError when a stable namespace is a preview namespace or Argo CD's own: the
    routes project would then reach namespaces it must never deploy into."""
    prefix = naming.literal_prefix(namespace_template)
    for repo in repositories:
        if repo.canary is None:
            continue
        ns = repo.canary.stable_namespace
        if ns.startswith(prefix) or ns == argocd_namespace:
            raise ValueError(f"{repo.name}: canary.stable_namespace {ns} is a preview namespace "
                             f"(prefix {prefix!r}) or the Argo CD namespace")


def check_canary_hosts(repositories: Sequence[RepositoryConfig]) -> None:
    """Raise ValueError when a canary host is some repository's preview host, or two canaries
    would match the same host and header (the same PR number would reach both)."""
    edges: dict[tuple[str, str], str] = {}
    for repo in repositories:
        canary = repo.canary
        if canary is None or canary.edge is None:
            continue
        host = canary.edge.host
        for other in repositories:
            if other.host and preview_host_pattern(other.host, other.name).match(host):
                raise ValueError(f"{repo.name}: canary.edge.host {host} is a preview host of "
                                 f"{other.name} ({other.host}); use the stable host")
        key = (host, canary.header.lower())
        if key in edges:
            raise ValueError(f"{edges[key]} and {repo.name} both route canaries on {host} by "
                             f"{canary.header}: PR numbers of both would collide; use distinct headers")
        edges[key] = repo.name
