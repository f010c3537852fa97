"""The check every manifest previewd writes to GitOps passes before it is committed.

Each ``.yaml`` file must parse, and every document in it must be a Kubernetes object Argo CD can
apply: a mapping with string ``apiVersion`` and ``kind`` and a ``metadata.name`` that is a valid
object name; annotations stay within the API server's total size. Anything else is refused
with a message naming the file and the document, and nothing is committed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from previewd.errors import PermanentError

MAX_NAME = 253  # Kubernetes object names are DNS-1123 subdomains
MAX_ANNOTATIONS_BYTES = 256 * 1024  # the API server's limit for all annotations of one object
MANIFEST_SUFFIXES = (".yaml", ".yml")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestError(PermanentError):
    """A manifest previewd was about to commit is not a valid Kubernetes object."""


def problems(doc: object) -> list[str]:
    """Why ``doc`` (one parsed YAML document) is not an object Kubernetes accepts."""
    if not isinstance(doc, dict):
        return [f"is a {type(doc).__name__}, not a mapping"]
    found = [f"{key} is missing or not a non-empty string" for key in ("apiVersion", "kind")
             if not isinstance(doc.get(key), str) or not doc[key]]
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.match(name):
        found.append(f"metadata.name {name!r} is not a valid object name")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if annotations is not None:
        if not isinstance(annotations, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()):
            found.append("metadata.annotations must map strings to strings")
        elif sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items()) > MAX_ANNOTATIONS_BYTES:
            found.append(f"metadata.annotations exceed {MAX_ANNOTATIONS_BYTES} bytes")
    return found


def check_file(path: str, content: bytes) -> None:
    """Raise ``ManifestError`` unless every document of the YAML file ``path`` is valid."""
    try:
        docs = list(yaml.load_all(content, Loader=_Loader))
    except yaml.YAMLError as err:
        raise ManifestError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
    docs = [d for d in docs if d is not None]
    if not docs:
        raise ManifestError(f"{path}: holds no Kubernetes object")
    for n, doc in enumerate(docs, 1):
        found = problems(doc)
        if found:
            raise ManifestError(f"{path}: document {n}: {'; '.join(found)}")


def check_directory(directory: str, files: Mapping[str, bytes]) -> None:
    """Check every manifest file of one GitOps directory (``files`` relative to it)."""
    for rel, content in files.items():
        if rel.endswith(MANIFEST_SUFFIXES):
            check_file(f"{directory}/{rel}", content)
