"""Image references and PR tag templates (pure).

A tag template such as ``pr-{number}-{sha}`` names the tag CI pushes for one PR head. The
same template, with the PR number fixed and the SHA left open, recognises every tag that
PR ever produced; that pattern is what cleanup may delete, and nothing else.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

PLACEHOLDERS = {"sha": 40, "sha7": 7, "sha8": 8, "number": 0}  # hex length; 0 = PR number
SHA_PLACEHOLDERS = frozenset({"sha", "sha7", "sha8"})
TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"  # an OCI tag (distribution spec)
OCI_TAG = re.compile(rf"^{TAG_PATTERN}$")
# One path component of a repository name, as the distribution spec's grammar has it.
REPOSITORY_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY_PATH = re.compile(rf"^{REPOSITORY_COMPONENT}(?:/{REPOSITORY_COMPONENT})*$")
_HOST = r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?)"
IMAGE_NAME = re.compile(rf"^(?:{_HOST}/)?{REPOSITORY_COMPONENT}(?:/{REPOSITORY_COMPONENT})*$")
SHA256_PATTERN = r"sha256:[0-9a-f]{64}"  # the only digest previewd pins an image by
SHA256_DIGEST = re.compile(rf"^{SHA256_PATTERN}$")
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SIGNED_V1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
# What previewd asks a registry for, in order of preference (an index first: one digest for all platforms).
PULLED_MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)
# What a push notification may name as an image (never a blob); an index is one push for every platform.
MANIFEST_MEDIA_TYPES = frozenset({*PULLED_MANIFEST_TYPES, DOCKER_SIGNED_V1})
DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class ImageLocation:
    """Where an image lives: registry host (as configured) and repository path."""

    host: str
    repository: str

    def __str__(self) -> str:
        return f"{self.host}/{self.repository}"


def split_host(reference: str) -> tuple[str, str]:
    """(registry host, path): the first segment is a host only if it looks like one (a dot, a
    port or ``localhost``), as Docker resolves names; otherwise the image is Docker Hub's."""
    first, sep, rest = reference.partition("/")
    if sep and ("." in first or ":" in first or first.lower() == "localhost"):
        return first.lower(), rest
    return DOCKER_HUB, reference


def locate(image: str) -> ImageLocation:
    """``registry.example.com/acme/shop`` -> host and path; short names are Docker Hub's."""
    host, repository = split_host(image)
    if host in DOCKER_HUB_ALIASES and "/" not in repository:
        repository = f"library/{repository}"
    return ImageLocation(host, repository)


def check_image_name(value: str) -> None:
    """Raise ValueError unless ``value`` is an image name without tag or digest."""
    if "@" in value or not IMAGE_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an image name (host/path, lower-case, without tag or digest)"
        )


def _fields(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ValueError(f"tag template {template!r}: {err}") from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"tag template {template!r}: unknown placeholder {{{name}}}; "
                "use {sha}, {sha7}, {sha8} or {number}"
            )
        if spec or conversion:
            raise ValueError(f"tag template {template!r}: {{{name}}} takes no format or conversion")
        names.append(name)
    return names


def check_tag_template(template: str) -> None:
    """Only known placeholders, at least one SHA form, and the result must be an OCI tag."""
    names = _fields(template)
    if not SHA_PLACEHOLDERS & set(names):
        raise ValueError(
            f"tag template {template!r} must contain {{sha}}, {{sha7}} or {{sha8}}: "
            "a tag without the head SHA cannot tell a new build from an old one"
        )
    for number in (1, 99999999):
        tag = render_tag(template, number, "f" * 40)
        if not OCI_TAG.match(tag):
            raise ValueError(f"tag template {template!r} gives {tag!r}, not a valid OCI tag")


def render_tag(template: str, number: int, sha: str) -> str:
    """The tag CI pushes for PR ``number`` at head ``sha``."""
    return template.format(sha=sha, sha7=sha[:7], sha8=sha[:8], number=int(number))


def _tag_regex(template: str, number_re: str, again_re: str | None = None) -> str:
    """Regex source for every tag ``template`` produces, whatever the SHA: ``{number}`` becomes
    ``number_re`` (``again_re`` where it repeats, when given), each SHA form its fixed-length hex."""
    parts = []
    seen_number = False
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name == "number":
            parts.append(again_re if seen_number and again_re is not None else number_re)
            seen_number = True
        elif name is not None:
            parts.append(f"[0-9a-f]{{{PLACEHOLDERS[name]}}}")
    return "".join(parts)


def tag_pattern(template: str, number: int) -> re.Pattern[str]:
    """Every tag ``template`` produces for PR ``number``, whatever the SHA.

    Unambiguous across PRs: the SHA forms have fixed lengths, so a tag of PR 42 and one of
    PR 4 never have the same length and shape.
    """
    return re.compile("^" + _tag_regex(template, str(int(number))) + "$")


def match_tag(template: str, tag: str) -> int | None:
    """The PR number whose tag template produced ``tag``, or None."""
    match = re.fullmatch(_tag_regex(template, r"(?P<number>[1-9][0-9]{0,9})", r"(?P=number)"), tag)
    return int(match.group("number")) if match and "number" in match.groupdict() else None


def pinned(repository: str, digest: str) -> str:
    """The digest-pinned reference written into GitOps."""
    return f"{repository}@{digest}"
