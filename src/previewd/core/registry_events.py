"""Image pushes, normalised from any registry's notification (one parser per format lives in
``previewd.core.registry_formats``).

A push is only a hint: consumers re-resolve the digest from the registry before acting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from previewd.core.limits import MAX_DIGEST_CHARS, MAX_IMAGE_REPOSITORY_CHARS
from previewd.images import OCI_TAG, REPOSITORY_PATH


@dataclass(frozen=True)
class ImagePushed:
    registry: str  # host[:port], lower-case, e.g. "registry.example.com" or "ghcr.io"
    repository: str  # path inside the registry, e.g. "acme/shop"
    tag: str | None  # None for an untagged (digest-only) push
    digest: str | None  # as the notification claims; re-resolve before trusting it
    media_type: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


# <algorithm>:<encoded> as the OCI image spec defines a digest (e.g. sha256:<64 hex>).
DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
REPOSITORY = REPOSITORY_PATH  # the distribution spec's grammar
HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?$")
MAX_PROBLEMS = 5  # shape errors named in one 400 answer
MAX_HINTS = 1000  # distinct tags one notification may announce (registries batch a few)


class FormatError(ValueError):
    """A body that is not the format its hook expects; the message says why (for the 400)."""


class Shape(BaseModel):
    """A notification's shape: strict types (no coercion), fields previewd does not read are
    ignored so a registry adding fields never breaks intake."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def validate(model: type[Shape], payload: Any, what: str) -> Any:
    """``payload`` as ``model``, or FormatError naming the first few wrong fields."""
    try:
        return model.model_validate(payload)
    except ValidationError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                    for e in err.errors()[:MAX_PROBLEMS]]
        raise FormatError(f"not a {what} notification: " + "; ".join(problems)) from None
    except RecursionError:  # absurdly deep JSON: still a shape error, never a 500
        raise FormatError(f"not a {what} notification: nested too deeply") from None


def is_digest(value: str | None) -> bool:
    return value is not None and len(value) <= MAX_DIGEST_CHARS and DIGEST.match(value) is not None


def image_pushed(registry: str, repository: str, tag: str | None, digest: str | None,
                 media_type: str | None = None) -> ImagePushed:
    """One push, checked: a ``tag`` that is a digest (Harbor sends one for digest pushes and
    from replication) is a digest-only push; any other tag must be an OCI tag."""
    registry, repository = registry.lower(), repository.lower()
    if not HOST.match(registry):
        raise FormatError(f"registry host {registry[:80]!r} is not a host name")
    if len(repository) > MAX_IMAGE_REPOSITORY_CHARS or not REPOSITORY.match(repository):
        raise FormatError(f"repository {repository[:80]!r} is not a repository name")
    if tag is not None and is_digest(tag):
        tag, digest = None, digest or tag
    if tag == "":
        tag = None
    if tag is not None and not OCI_TAG.match(tag):
        raise FormatError(f"tag {tag[:80]!r} is neither an OCI tag nor a digest")
    if digest is not None and not is_digest(digest):
        digest = None  # only a hint; consumers re-resolve it, so a placeholder is dropped
    return ImagePushed(registry, repository, tag, digest, media_type)


def hints(pushes: list[ImagePushed]) -> list[ImagePushed]:
    """The tagged pushes, one per (registry, repository, tag), the last one winning, order kept.

    A multi-arch push yields one event per platform manifest plus the index; consumers
    re-resolve the tag anyway, so a single hint per tag is enough. Untagged (digest-only)
    pushes are no hint: nothing selects an image by a digest nobody has seen yet.
    """
    latest: dict[tuple[str, str, str | None], ImagePushed] = {}
    for push in pushes:
        if push.tag is None:
            continue
        key = (push.registry, push.repository, push.tag)
        latest.pop(key, None)
        latest[key] = push
    if len(latest) > MAX_HINTS:
        raise FormatError(f"announces {len(latest)} tags; at most {MAX_HINTS} per notification")
    return list(latest.values())


def host_of(reference: str) -> str | None:
    """The host of ``host/path[:tag|@digest]``, or None when there is no path."""
    host, sep, _ = reference.partition("/")
    return host.lower() if sep and host else None


Parser = Callable[[Any, "str | None"], list[ImagePushed]]


@dataclass(frozen=True)
class RegistryFormat:
    """One notification format: the hook kind that receives it (``/hooks/registry/<kind>``),
    whether a body of that kind is in this format (a kind may have several), and its parser.

    ``parse(payload, registry)`` takes the decoded JSON and the configured host whose token
    authorised it (None: take the host the payload names) and returns the tagged pushes, or
    raises FormatError.
    """

    name: str
    kind: str
    parse: Parser
    claims: Callable[[Any], bool] = lambda _payload: True
