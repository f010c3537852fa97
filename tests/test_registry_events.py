"""Notification parsers (Distribution, Harbor, GitHub packages) and PR tag templates; every
format's documented payload is in test_registry_formats.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from previewd.core.registry_events import FormatError, ImagePushed
from previewd.core.registry_formats import github_package, parse
from previewd.errors import ConfigError
from previewd.images import check_tag_template, locate, match_tag, render_tag, tag_pattern
from previewd.settings import parse_config
from tests.support import fixture

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
D1, D2, D3 = ("sha256:" + c * 64 for c in "123")


def distribution_event(action: str, media_type: str, tag: str | None, digest: str,
                       repository: str = "acme/shop") -> dict[str, Any]:
    target: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": 500,
                              "repository": repository,
                              "url": f"http://127.0.0.1:5000/v2/{repository}/manifests/{digest}"}
    if tag:
        target["tag"] = tag
    return {"id": "e", "timestamp": "2026-01-01T00:00:00Z", "action": action, "target": target,
            "request": {"id": "r", "host": "Registry.Example.com", "method": "PUT"},
            "actor": {}, "source": {"addr": "registry:5000", "instanceID": "i"}}


def test_distribution_multi_arch_push_is_one_hint_per_tag() -> None:
    envelope = {"events": [
        distribution_event("push", "application/vnd.oci.image.layer.v1.tar+gzip", None, D1),
        distribution_event("push", OCI_MANIFEST, None, D1),  # platform manifest, untagged
        distribution_event("push", OCI_MANIFEST, None, D2),
        distribution_event("push", OCI_INDEX, "pr-1-abc", D3),
        distribution_event("pull", OCI_INDEX, "pr-1-abc", D3),
        distribution_event("push", OCI_INDEX, "pr-1-abc", D3),  # redelivered
    ]}
    assert parse("distribution", envelope, None) == [
        ImagePushed("registry.example.com", "acme/shop", "pr-1-abc", D3, OCI_INDEX)]
    # The configured host that authorised the hook wins over the pusher's Host header.
    assert parse("distribution", envelope, "127.0.0.1:5000")[0].registry == "127.0.0.1:5000"
    assert parse("distribution", {"events": []}, None) == []
    for malformed in ({"events": "nonsense"}, {}, {"events": 5}):
        with pytest.raises(FormatError):
            parse("distribution", malformed, None)


def test_harbor_push_artifact_only() -> None:
    payload = {"type": "PUSH_ARTIFACT", "occur_at": 1, "operator": "ci", "event_data": {
        "resources": [{"digest": D1, "tag": "pr-2-abc",
                       "resource_url": "harbor.example.com/acme/shop:pr-2-abc"},
                      {"digest": D1, "tag": "", "resource_url": "harbor.example.com/acme/shop"}],
        "repository": {"name": "shop", "namespace": "acme", "repo_full_name": "acme/shop"}}}
    assert parse("harbor", payload, None) == [ImagePushed("harbor.example.com", "acme/shop", "pr-2-abc", D1)]
    assert parse("harbor", {**payload, "type": "PULL_ARTIFACT"}, None) == []
    assert parse("harbor", {**payload, "type": "DELETE_ARTIFACT"}, None) == []
    # A digest in ``tag`` (Harbor's push by digest and replication) is a digest, never a tag.
    by_digest = copy.deepcopy(payload)
    by_digest["event_data"]["resources"] = [{"digest": D1, "tag": D1,
                                             "resource_url": f"harbor.example.com/acme/shop@{D1}"}]
    assert parse("harbor", by_digest, None) == []


def test_github_package_events() -> None:
    # The recorded examples: an npm package and an untagged container version.
    assert github_package.parse("package", fixture("package.published.1.json")) == []
    untagged = fixture("package.published.2.json")
    untagged["package"]["package_type"] = "container"
    assert github_package.parse("package", untagged) == []

    tagged = copy.deepcopy(untagged)
    tagged["package"]["owner"] = {"login": "Acme"}
    tagged["package"]["name"] = "shop"
    tagged["package"]["package_version"]["container_metadata"]["tag"]["name"] = "pr-3-abc"
    tagged["package"]["package_version"]["package_url"] = "ghcr.io/Acme/shop:pr-3-abc"
    (push,) = github_package.parse("package", tagged)
    assert (push.registry, push.repository, push.tag) == ("ghcr.io", "acme/shop", "pr-3-abc")
    assert push.digest == tagged["package"]["package_version"]["container_metadata"]["manifest"][
        "digest"]

    registry_package = {"action": "published", "registry_package": {
        "name": "shop", "package_type": "CONTAINER", "owner": {"login": "acme"},
        "package_version": {"package_url": "ghcr.io/acme/shop:pr-3-abc",
                            "container_metadata": {"tag": {"name": "pr-3-abc", "digest": D2}}}}}
    assert github_package.parse("registry_package", registry_package) == [
        ImagePushed("ghcr.io", "acme/shop", "pr-3-abc", D2, None)]
    assert github_package.parse("registry_package", {**registry_package, "action": "deleted"}) == []
    assert github_package.parse("push", registry_package) == []


def test_tag_templates() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert render_tag("pr-{number}-{sha}", 42, sha) == f"pr-42-{sha}"
    assert render_tag("{sha7}-{sha8}-n{number}", 7, sha) == "0123456-01234567-n7"
    pattern = tag_pattern("pr-{number}-{sha7}", 42)
    assert pattern.match("pr-42-0123456")
    for other in ("pr-4-0123456", "pr-420-0123456", "pr-42-012345", "main", "pr-42-ZZZZZZZ"):
        assert not pattern.match(other), other
    assert match_tag("pr-{number}-{sha}", f"pr-42-{sha}") == 42
    assert match_tag("pr-{number}-{sha}", "main") is None
    assert match_tag("{sha}", sha) is None  # no number in the template: no PR to wake
    twice = "pr-{number}-{sha7}-n{number}"  # a repeated {number} must repeat the same number
    assert match_tag(twice, "pr-42-0123456-n42") == 42 and match_tag(twice, "pr-42-0123456-n43") is None
    assert tag_pattern(twice, 42).match("pr-42-0123456-n42") and not tag_pattern(twice, 42).match("pr-42-0123456-n4")
    for bad in ("pr-{number}", "pr-{branch}-{sha}", "pr-{sha:>50}", "{sha}/x", "x" * 90 + "{sha}"):
        with pytest.raises(ValueError):
            check_tag_template(bad)


def test_image_locations() -> None:
    assert str(locate("registry.example.com:5000/acme/shop")) == "registry.example.com:5000/acme/shop"
    assert locate("acme/shop").host == "docker.io"
    assert locate("nginx").repository == "library/nginx"
    assert locate("localhost/x").host == "localhost"


def repo_config(**repo: Any) -> dict[str, Any]:
    return {"gitops": {"url": "/tmp/x"}, "repositories": [{
        "name": "acme/shop", "deploy": {"repo_url": "https://github.com/acme/shop.git"}, **repo}]}


def test_image_config_is_strict() -> None:
    config = parse_config(repo_config(images=[{"name": "ghcr.io/acme/shop"}],
                                      image_wait_timeout="5m"), {})
    (image,) = config.repositories[0].images
    assert (image.source, image.tag) == ("ghcr.io/acme/shop", "pr-{number}-{sha}")
    assert config.repositories[0].image_wait_timeout.total_seconds() == 300
    assert config.repositories[0].cleanup_tags is False

    cases = {
        "repositories.0.images.0.tag": {"images": [{"name": "a.io/x", "tag": "pr-{branch}"}]},
        "repositories.0.images.0.name": {"images": [{"name": "a.io/x:latest"}]},
        "repositories.0.images.0.registry": {"images": [{"name": "a.io/x", "registry": "y"}]},
        "repositories.0: Value error, cleanup_tags needs {number}": {
            "cleanup_tags": True, "images": [{"name": "a.io/x", "tag": "b-{sha}"}]},
        "repositories.0: Value error, cleanup_tags is set but no images": {"cleanup_tags": True},
    }
    for where, repo in cases.items():
        with pytest.raises(ConfigError) as err:
            parse_config(repo_config(**repo), {})
        assert any(p.startswith(where.split(": Value error, ")[0]) and
                   where.split(": Value error, ")[-1] in p for p in err.value.problems), (
            where, err.value.problems)


def test_registries_need_distinct_hosts_and_hook_tokens() -> None:
    base = repo_config()
    for registries, problem in (
        ([{"host": "r.example.com"}, {"host": "R.example.com"}], "a host is listed twice"),
        ([{"host": "a.example.com", "notifications_token": "t"},
          {"host": "b.example.com", "notifications_token": "t"}], "share a notifications_token"),
    ):
        with pytest.raises(ConfigError) as err:
            parse_config({**base, "registries": registries}, {})
        assert any(problem in p for p in err.value.problems), err.value.problems
