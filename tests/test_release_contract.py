"""The app-env.yaml / release.yaml contract: the reference examples, strictness, published schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from previewd.releases.contract import (
    ContractError,
    parse_app_env,
    parse_release,
    published_schemas,
)
from tests.release_support import SEED_APP_ENV, SEED_RELEASE, seed_app_env

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
ENVIRONMENTS = ["dev", "staging", "prod"]


def problems(data: Any, environments: list[str] | None = ENVIRONMENTS) -> list[str]:
    with pytest.raises(ContractError) as err:
        parse_app_env(data, environments=environments)
    return err.value.problems


def test_reference_examples_parse_with_their_stated_meaning() -> None:
    """tests/data/releases holds the contract's reference app-env.yaml and release.yaml, comments
    and all (see README.md there); each parses and means what its comments say."""
    env = parse_app_env(yaml.safe_load(SEED_APP_ENV.read_text()), environments=ENVIRONMENTS)
    release = parse_release(yaml.safe_load(SEED_RELEASE.read_text()))
    assert env.spec.target.namespace == "app-team-a-app1-dev"
    assert env.mode(["prod"]) == "auto"
    assert str(env.repository) == "harbor.example.tld/team-a/app1/dev"
    assert release.spec.image.tag == "2025.12.29-1342"
    assert release.spec.image.pinned is None  # the example's digest is a placeholder


def test_reference_examples_validate_against_the_published_schemas() -> None:
    for name, file in (("app-env.schema.json", SEED_APP_ENV), ("release.schema.json", SEED_RELEASE)):
        schema = json.loads((SCHEMAS / name).read_text())
        jsonschema.validate(yaml.safe_load(file.read_text()), schema)


def test_published_schemas_are_current() -> None:
    for name, schema in published_schemas().items():
        expected = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        path = SCHEMAS / name
        if not path.exists() or path.read_text() != expected:
            path.write_text(expected)
            pytest.fail(f"{path} was stale and has been regenerated; commit it")


def test_published_schema_rejects_unknown_fields() -> None:
    schema = json.loads((SCHEMAS / "app-env.schema.json").read_text())
    doc = seed_app_env()
    doc["spec"]["runtime"]["sidecars"] = []
    with pytest.raises(jsonschema.ValidationError, match="sidecars"):
        jsonschema.validate(doc, schema)


def test_platform_namespace_is_rejected_naming_the_field() -> None:
    doc = seed_app_env()
    doc["spec"]["target"]["namespace"] = "platform-ingress"
    (problem,) = problems(doc)
    assert problem.startswith("spec.target.namespace: ")
    assert "platform-" in problem


def test_namespace_must_start_with_app() -> None:
    doc = seed_app_env()
    doc["spec"]["target"]["namespace"] = "team-a-app1"
    assert problems(doc) == ["spec.target.namespace: 'team-a-app1': application namespaces "
                             "must start with 'app-'"]


@pytest.mark.parametrize("where", [(), ("spec",), ("spec", "runtime", "service"),
                                   ("spec", "registry", "deployPolicy"), ("metadata",)])
def test_unknown_field_is_rejected_naming_the_field(where: tuple[str, ...]) -> None:
    doc = seed_app_env()
    holder = doc
    for key in where:
        holder = holder[key]
    holder["hostNetwork"] = True
    assert problems(doc) == [".".join([*where, "hostNetwork"]) + ": unknown field"]


@pytest.mark.parametrize("path", [("metadata", "tenant"), ("metadata", "app"),
                                  ("metadata", "environment"), ("spec", "target", "namespace"),
                                  ("spec", "registry", "repository"),
                                  ("spec", "runtime", "service", "port"),
                                  ("spec", "runtime", "scaling", "replicas"),
                                  ("spec", "runtime", "resources", "limits")])
def test_required_fields(path: tuple[str, ...]) -> None:
    doc = seed_app_env()
    holder = doc
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    assert problems(doc) == [".".join(path) + ": Field required"]


def test_environment_must_be_configured() -> None:
    doc = seed_app_env()
    doc["metadata"]["environment"] = "qa"
    (problem,) = problems(doc)
    assert problem.startswith("metadata.environment: 'qa' is not a configured environment")
    assert parse_app_env(doc, environments=None).metadata.environment == "qa"


@pytest.mark.parametrize("repository", ["https://harbor.example.tld/a/b", "harbor.example.tld/a/b:1.0",
                                        "harbor.example.tld/a/b@sha256:" + "0" * 64,
                                        "harbor.example.tld//b", ""])
def test_repository_must_be_a_repository(repository: str) -> None:
    doc = seed_app_env()
    doc["spec"]["registry"]["repository"] = repository
    (problem,) = problems(doc)
    assert problem.startswith("spec.registry.repository: ")


def test_types_are_not_coerced() -> None:
    doc = seed_app_env()
    doc["spec"]["runtime"]["service"]["port"] = "8080"
    doc["spec"]["config"]["env"][1]["value"] = True
    assert sorted(p.split(":")[0] for p in problems(doc)) == [
        "spec.config.env.1.value", "spec.runtime.service.port"]


def test_filters_are_validated_and_exclusive() -> None:
    doc = seed_app_env()
    doc["spec"]["registry"]["deployPolicy"] = {"mode": "auto", "semver": "banana"}
    assert problems(doc)[0].startswith("spec.registry.deployPolicy.semver: ")
    doc["spec"]["registry"]["deployPolicy"] = {"tagPattern": "(", "mode": "auto"}
    assert problems(doc)[0].startswith("spec.registry.deployPolicy.tagPattern: ")
    doc["spec"]["registry"]["deployPolicy"] = {"tagPattern": "v.*", "semver": "^1"}
    assert problems(doc) == ["spec.registry.deployPolicy: set tagPattern or semver, not both"]


def test_default_mode_is_manual_for_manual_environments() -> None:
    doc = seed_app_env()
    doc["metadata"]["environment"] = "prod"
    del doc["spec"]["registry"]["deployPolicy"]["mode"]
    assert parse_app_env(doc).mode(["prod"]) == "manual"
    doc["metadata"]["environment"] = "staging"
    assert parse_app_env(doc).mode(["prod"]) == "auto"


def test_ingress_needs_host_when_enabled() -> None:
    doc = seed_app_env()
    del doc["spec"]["ingress"]["host"]
    assert problems(doc) == ["spec.ingress: Value error, host is required when ingress is enabled"
                             .replace("Value error, ", "")]


def test_release_rejects_unknown_fields_and_needs_a_reference() -> None:
    doc = yaml.safe_load(SEED_RELEASE.read_text())
    bad = copy.deepcopy(doc)
    bad["spec"]["image"]["pullPolicy"] = "Always"
    with pytest.raises(ContractError) as err:
        parse_release(bad)
    assert err.value.problems == ["spec.image.pullPolicy: unknown field"]
    bare = copy.deepcopy(doc)
    del bare["spec"]["image"]["tag"], bare["spec"]["image"]["digest"]
    with pytest.raises(ContractError) as err:
        parse_release(bare)
    assert err.value.problems == ["spec.image: set digest (preferred) or tag"]


def test_published_schema_rejects_a_platform_namespace() -> None:
    schema = json.loads((SCHEMAS / "app-env.schema.json").read_text())
    doc = seed_app_env()
    doc["spec"]["target"]["namespace"] = "platform-ingress"
    with pytest.raises(jsonschema.ValidationError, match="app-"):
        jsonschema.validate(doc, schema)
