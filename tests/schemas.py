"""Validate rendered manifests against real schemas: kubernetes-validate for core kinds,
the upstream CRD schemas in tests/data/crds (origin in SOURCE.md there) for custom resources."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tests.support import CRDS

K8S_VERSION = "1.33.0"


@cache
def crd_schema(group: str, kind: str, version: str) -> dict[str, Any] | None:
    path = CRDS / group / f"{kind.lower()}_{version}.json"
    if not path.exists():
        return None
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def validate(doc: dict[str, Any]) -> None:
    """Raise if ``doc`` is not valid for its apiVersion/kind (strict: unknown fields fail)."""
    api_version = doc["apiVersion"]
    group, _, version = api_version.rpartition("/")
    schema = crd_schema(group, doc["kind"], version) if "." in group else None
    if schema is not None:
        jsonschema.validate(doc, schema)
    elif "." in group and not group.endswith("k8s.io"):
        raise AssertionError(f"no schema for custom resource {api_version} {doc['kind']}")
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def validate_file(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        validate(doc)
    return docs


def validate_bytes(content: bytes) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(content) if d]
    for doc in docs:
        validate(doc)
    return docs
