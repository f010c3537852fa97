"""Every /hooks/registry format against the payload its registry documents
(tests/data/registry-payloads, sources in SOURCE.md), shape errors, and fuzzing: arbitrary
JSON never makes a parser raise anything but FormatError."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from previewd.adapters.store.releases import release_queue
from previewd.core.limits import MAX_DIGEST_CHARS, MAX_IMAGE_REPOSITORY_CHARS
from previewd.core.registry_events import MAX_HINTS, FormatError, ImagePushed
from previewd.core.registry_formats import FORMATS, KINDS, format_of, github_package, parse

PAYLOADS = Path(__file__).parent / "data" / "registry-payloads"
HOST = "registry.example.com"
V2 = "application/vnd.docker.distribution.manifest.v2+json"


def documented(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def test_every_kind_is_served_and_every_payload_is_sourced() -> None:
    assert KINDS == ("acr", "artifactory", "distribution", "dockerhub", "harbor", "quay")
    assert {f.kind for f in FORMATS.values()} == set(KINDS)
    sources = (PAYLOADS / "SOURCE.md").read_text()
    for file in PAYLOADS.glob("*.json"):
        assert f"`{file.name}`" in sources, file.name


def test_distribution_documented_envelopes() -> None:
    # The documented push is an untagged manifest plus a layer blob: no hint.
    assert parse("distribution", documented("distribution-push.json"), HOST) == []
    pull = documented("distribution-pull.json")
    assert parse("distribution", pull, HOST) == []
    pull["events"][0]["action"] = "push"  # the same manifest, tagged, pushed
    assert parse("distribution", pull, None) == [ImagePushed(
        "192.168.100.227:5000", "hello-world", "latest",
        "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf", V2)]
    assert parse("distribution", pull, HOST)[0].registry == HOST  # the token's host wins


def test_harbor_default_format() -> None:
    (push,) = parse("harbor", documented("harbor-push-tag.json"), HOST)
    assert (push.registry, push.repository, push.tag) == (HOST, "test-webhook/debian", "latest")
    assert push.digest == "sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8"
    assert parse("harbor", documented("harbor-push-tag.json"), None)[0].registry == "hub.harbor.com"
    # A "tag" that is a digest (push by digest, replication) is a digest: no tag hint.
    assert parse("harbor", documented("harbor-push-digest.json"), HOST) == []
    pulled = {**documented("harbor-push-tag.json"), "type": "PULL_ARTIFACT"}
    assert parse("harbor", pulled, HOST) == []


def test_harbor_cloudevents_format() -> None:
    event = documented("harbor-cloudevents-push.json")
    assert format_of("harbor", event).name == "harbor-cloudevents"
    assert parse("harbor", event, HOST) == []  # the documented push is by digest
    tagged = copy.deepcopy(event)
    tagged["data"]["resources"][0]["tag"] = "v1.2"
    (push,) = parse("harbor", tagged, HOST)
    assert (push.repository, push.tag, push.digest) == (
        "harbor/alpine", "v1.2", event["data"]["resources"][0]["digest"])
    assert parse("harbor", documented("harbor-cloudevents-delete.json"), HOST) == []


def test_quay_repo_push() -> None:
    assert parse("quay", documented("quay-repo-push.json"), HOST) == [
        ImagePushed(HOST, "dgangaia/test", "latest", None)]
    assert parse("quay", documented("quay-repo-push.json"), None)[0].registry == "quay.io"


def test_acr_push() -> None:
    (push,) = parse("acr", documented("acr-push.json"), HOST)
    assert (push.registry, push.repository, push.tag, push.media_type) == (HOST, "hello-world", "v1", V2)
    assert parse("acr", documented("acr-push.json"), None)[0].registry == "myregistry.azurecr.io"
    assert parse("acr", documented("acr-chart-push.json"), HOST) == []


def test_only_acr_counts_an_event_without_media_type_as_a_manifest_push() -> None:
    untyped = documented("acr-push.json")
    del untyped["target"]["mediaType"]
    assert [p.tag for p in parse("acr", untyped, HOST)] == ["v1"]
    assert parse("distribution", {"events": [untyped]}, HOST) == []
    blob = copy.deepcopy(untyped)
    blob["target"]["mediaType"] = "application/octet-stream"
    assert parse("acr", blob, HOST) == []
    assert parse("distribution", {"events": [blob]}, HOST) == []


def test_a_digest_hint_the_release_store_cannot_hold_is_dropped_and_the_tag_kept() -> None:
    event = documented("acr-push.json")
    longest = "sha512:" + "a" * (MAX_DIGEST_CHARS - len("sha512:"))
    event["target"]["digest"] = longest
    assert [(p.tag, p.digest) for p in parse("acr", event, HOST)] == [("v1", longest)]
    event["target"]["digest"] = longest + "a"
    assert [(p.tag, p.digest) for p in parse("acr", event, HOST)] == [("v1", None)]
    assert release_queue.c.digest.type.length == MAX_DIGEST_CHARS


def test_a_repository_name_the_release_store_cannot_hold_is_a_format_error() -> None:
    event = documented("acr-push.json")
    event["target"]["repository"] = "a/" * ((MAX_IMAGE_REPOSITORY_CHARS - 1) // 2) + "a"
    assert len(parse("acr", event, HOST)[0].repository) == MAX_IMAGE_REPOSITORY_CHARS
    event["target"]["repository"] += "b"
    with pytest.raises(FormatError, match="not a repository name"):
        parse("acr", event, HOST)
    assert release_queue.c.repository.type.length == MAX_IMAGE_REPOSITORY_CHARS


def test_dockerhub_push() -> None:
    assert parse("dockerhub", documented("dockerhub-push.json"), None) == [
        ImagePushed("docker.io", "svendowideit/testhook", "latest", None)]


def test_artifactory_docker_pushed() -> None:
    bare = documented("artifactory-docker-pushed.json")
    expected = [ImagePushed(HOST, "docker-remote-cache/library/ubuntu", "latest",
                            "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce")]
    assert parse("artifactory", bare, HOST) == expected
    enveloped = {"domain": "docker", "event_type": "pushed", "data": bare,
                 "subscription_key": "test", "jpd_origin": "https://acme.jfrog.io"}
    assert parse("artifactory", enveloped, HOST) == expected
    assert parse("artifactory", enveloped, None)[0].registry == "acme.jfrog.io"
    assert parse("artifactory", documented("artifactory-artifact-deployed.json"), HOST) == []


@pytest.mark.parametrize(("kind", "body", "reason"), [
    ("distribution", {"events": 5}, "events"),
    ("distribution", {}, "events"),
    ("distribution", {"events": [{"action": "push", "target": {"repository": 7}}]}, "repository"),
    ("harbor", {"type": "PUSH_ARTIFACT", "event_data": {"resources": 5}}, "resources"),
    ("harbor", {"type": "PUSH_ARTIFACT"}, "event_data"),
    ("harbor", {"specversion": "1.0", "type": "harbor.artifact.pushed", "data": []}, "data"),
    ("quay", documented("dockerhub-push.json"), "repository"),
    ("dockerhub", documented("quay-repo-push.json"), "push_data"),
    ("acr", documented("distribution-pull.json"), "action"),
    ("artifactory", documented("acr-push.json"), "repo_key"),
    ("harbor", {"type": "PUSH_ARTIFACT", "event_data": {"resources": [{"tag": "a b"}],
                                                       "repository": {"repo_full_name": "x/y"}}},
     "neither an OCI tag nor a digest"),
    ("quay", {"repository": "../../etc", "docker_url": "q.io/x", "updated_tags": ["v1"]},
     "not a repository name"),
])
def test_a_body_in_another_shape_is_a_format_error_naming_the_field(
        kind: str, body: Any, reason: str) -> None:
    with pytest.raises(FormatError, match=reason):
        parse(kind, body, HOST)


def test_one_notification_announces_a_bounded_number_of_tags() -> None:
    quay = documented("quay-repo-push.json")
    quay["updated_tags"] = [f"v{n}" for n in range(MAX_HINTS)] + ["v1"]  # a duplicate is one
    assert len(parse("quay", quay, HOST)) == MAX_HINTS
    quay["updated_tags"].append("one-too-many")
    with pytest.raises(FormatError, match=f"at most {MAX_HINTS}"):
        parse("quay", quay, HOST)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25)
# Near-misses: documented payloads with one value replaced by arbitrary JSON.
DOCUMENTED = sorted(p.name for p in PAYLOADS.glob("*.json"))


def _mutate(doc: Any, path: list[int], value: Any) -> Any:
    if not path or not isinstance(doc, dict | list) or not doc:
        return value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    out = copy.copy(doc)
    out[key] = _mutate(doc[key], path[1:], value)
    return out


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(KINDS), body=JSON, registry=st.none() | st.just(HOST))
def test_arbitrary_json_only_ever_raises_format_error(kind: str, body: Any, registry: str | None) -> None:
    try:
        pushes = parse(kind, body, registry)
    except FormatError:
        return
    assert all(isinstance(p, ImagePushed) and p.tag for p in pushes)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(KINDS), name=st.sampled_from(DOCUMENTED),
       path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5), value=JSON)
def test_mutated_documented_payloads_only_ever_raise_format_error(
        kind: str, name: str, path: list[int], value: Any) -> None:
    try:
        pushes = parse(kind, _mutate(documented(name), path, value), HOST)
    except FormatError:
        return
    assert all(isinstance(p, ImagePushed) and p.tag for p in pushes)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(event=st.sampled_from(github_package.EVENT_KINDS),
       package=st.dictionaries(st.sampled_from(["package_type", "name", "owner", "namespace",
                                                "package_version"]), JSON, max_size=5),
       action=st.sampled_from(["published", "updated", "deleted"]) | JSON)
def test_github_package_events_never_raise(event: str, package: dict[str, Any], action: Any) -> None:
    pushes = github_package.parse(event, {"action": action, event: package})
    assert all(p.registry == "ghcr.io" and p.tag for p in pushes)
