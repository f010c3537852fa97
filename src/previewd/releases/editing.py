"""Edit ``release.yaml`` in place: only the release keys change, everything else survives.

Round-trip YAML (ruamel.yaml) keeps comments, key order, quoting and indentation. The release
keys are ``spec.image.repository``, ``spec.image.tag``, ``spec.image.digest``,
``spec.observedAt`` and ``spec.observedBy``; a missing ``release.yaml`` is created from the
app-env's metadata.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from previewd.errors import PermanentError
from previewd.releases.contract import API_VERSION, AppEnvironment

RELEASE_KEYS = (
    ("spec", "image", "repository"),
    ("spec", "image", "tag"),
    ("spec", "image", "digest"),
    ("spec", "observedAt"),
    ("spec", "observedBy"),
)


class EditError(PermanentError):
    """``release.yaml`` is not a mapping we can edit (the file is left alone)."""


@dataclass(frozen=True)
class NewRelease:
    repository: str
    tag: str | None
    digest: str
    observed_at: str  # RFC 3339, UTC
    observed_by: str


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as err:
        raise EditError(f"release.yaml is not valid YAML: {err}") from None


def _styled(old: object, new: str) -> str:
    """``new`` in the quoting style ``old`` had, so a quoted tag stays quoted."""
    styled: str = new
    if isinstance(old, DoubleQuotedScalarString):
        styled = DoubleQuotedScalarString(new)
    elif isinstance(old, SingleQuotedScalarString):
        styled = SingleQuotedScalarString(new)
    return styled


def _mapping(parent: CommentedMap, key: str) -> CommentedMap:
    child = parent.get(key)
    if child is None:
        child = CommentedMap()
        parent[key] = child
    if not isinstance(child, CommentedMap):
        raise EditError(f"release.yaml: {key} is not a mapping")
    return child


def _set(parent: CommentedMap, key: str, value: str | None) -> None:
    if value is None:
        parent.pop(key, None)
    elif parent.get(key) != value:
        parent[key] = _styled(parent.get(key), value)


def skeleton(env: AppEnvironment) -> str:
    """The text of a fresh ``release.yaml`` for ``env`` (before the first release)."""
    m = env.metadata
    return (
        f"apiVersion: {API_VERSION}\nkind: AppRelease\n\nmetadata:\n"
        f"  tenant: {m.tenant}\n  app: {m.app}\n  environment: {m.environment}\n\n"
        f"spec:\n  image:\n    repository: {env.spec.registry.repository}\n"
    )


def edit_release(text: str, release: NewRelease) -> str:
    """``text`` with only the release keys set to ``release`` (tag removed when None)."""
    doc = load(text)
    if not isinstance(doc, CommentedMap):
        raise EditError("release.yaml is not a mapping")
    spec = _mapping(doc, "spec")
    image = _mapping(spec, "image")
    _set(image, "repository", release.repository)
    _set(image, "tag", release.tag)
    _set(image, "digest", release.digest)
    _set(spec, "observedAt", release.observed_at)
    _set(spec, "observedBy", release.observed_by)
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def current_image(text: str) -> tuple[str | None, str | None]:
    """(tag, digest) that ``text`` releases now; (None, None) if it names none."""
    return image_of(load(text))


def image_of(doc: object) -> tuple[str | None, str | None]:
    """(tag, digest) of a parsed release.yaml document; (None, None) if it names none."""
    spec = doc.get("spec") if isinstance(doc, dict) else None
    image = spec.get("image") if isinstance(spec, dict) else None
    if not isinstance(image, dict):
        return None, None
    tag, digest = image.get("tag"), image.get("digest")
    return (str(tag) if tag is not None else None, str(digest) if digest is not None else None)
