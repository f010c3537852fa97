"""Names: DNS-1123 labels derived only from the repository name, the PR number and config.

Nothing from a pull request's free text (branch, title, labels) ever reaches a name. Long
names are shortened with a stable hash suffix so they stay unique and stable over time.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence

MAX_LABEL = 63
MAX_PR_DIGITS = 10  # GitHub PR numbers are 32-bit integers
HASH_LEN = 8
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"  # one DNS-1123 label (RFC 1123), at most 63 characters
DNS_LABEL_PATTERN = rf"^{_LABEL}$"
DNS_NAME_PATTERN = rf"^{_LABEL}(\.{_LABEL})+$"  # a fully qualified host: two or more labels
_DNS_LABEL = re.compile(_LABEL)
PLATFORM_PREFIX = "platform-"  # namespaces the platform alone owns
_NAME_FIELDS = {"number", "repo", "owner"}


def is_dns_label(value: str) -> bool:
    """True if ``value`` is a valid DNS-1123 label (RFC 1123, at most 63 characters)."""
    return _DNS_LABEL.fullmatch(value) is not None  # whole: no trailing newline slips through


def stable_hash(value: str, length: int = HASH_LEN) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:length]


def sanitize(value: str) -> str:
    """Lower-case ``value`` and keep only ``[a-z0-9-]``, collapsing and trimming dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return cleaned or "x" + stable_hash(value, 6)


def bounded(name: str, limit: int = MAX_LABEL) -> str:
    """``name`` if it fits in ``limit``; otherwise a prefix plus a stable hash suffix."""
    if len(name) <= limit:
        return name
    head = name[: limit - HASH_LEN - 1].rstrip("-")
    return f"{head}-{stable_hash(name)}"


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _split_repo(full_name: str) -> tuple[str, str]:
    owner, _, repo = full_name.partition("/")
    return owner, repo


def _parts(template: str, full_name: str) -> tuple[str, str]:
    """The sanitized text before and after ``{number}`` for one repository."""
    owner, repo = _split_repo(full_name)
    marker = "\x00"
    rendered = template.format(number=marker, repo=sanitize(repo), owner=sanitize(owner))
    before, _, after = rendered.partition(marker)
    return before, after


def _checked_fields(template: str) -> list[str]:
    """The template's placeholders; ValueError for bad syntax or unknown names."""
    try:
        fields = _fields(template)
    except ValueError as err:
        raise ValueError(f"invalid template: {err}") from None
    unknown = set(fields) - _NAME_FIELDS
    if unknown:
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {{number}}, {{repo}}, {{owner}}")
    return fields


def check_namespace_template(template: str) -> None:
    """Raise ValueError unless ``template`` always yields a safe, preview-prefixed name."""
    fields = _checked_fields(template)
    if fields.count("number") != 1:
        raise ValueError("must contain {number} exactly once")
    literal = "".join(t for t, _, _, _ in string.Formatter().parse(template))
    if not re.fullmatch(r"[a-z0-9-]*", literal):
        raise ValueError("literal text may only contain lower-case letters, digits and '-'")
    prefix = literal_prefix(template)
    if len(prefix) < 2 or not prefix[0].isalpha():
        raise ValueError(
            "must start with a literal prefix of at least two characters, such as 'pr-', "
            "so the AppProject can restrict destinations to previews"
        )


def literal_prefix(template: str) -> str:
    """The fixed text before the first placeholder (for example ``pr-``)."""
    return next(iter(string.Formatter().parse(template)))[0]


def namespace_glob(template: str) -> str:
    """A glob matching every name the template can produce (for AppProject destinations)."""
    return literal_prefix(template) + "*"


def namespace_name(template: str, full_name: str, number: int) -> str:
    """The preview namespace (and Argo CD Application) name for PR ``number``."""
    owner, repo = _split_repo(full_name)
    name = template.format(number=int(number), repo=sanitize(repo), owner=sanitize(owner))
    name = re.sub(r"-{2,}", "-", name).strip("-")
    return bounded(name)


def repo_label_value(full_name: str) -> str:
    """A label value naming the repository: ``owner.repo``; owners never contain dots."""
    owner, repo = _split_repo(full_name.lower())
    value = re.sub(r"[^a-z0-9._-]+", "-", f"{owner}.{repo}").strip("-._")
    return bounded(value)


def preview_dir(base: str, full_name: str, number: int) -> str:
    """The preview's directory in the GitOps repo: ``<base>/<owner>/<repo>/pr-<number>``."""
    owner, repo = _split_repo(full_name.lower())
    return f"{base}/{owner}/{repo}/pr-{int(number)}"


def _compatible(a: tuple[str, str], la: int, b: tuple[str, str], lb: int) -> bool:
    """Can ``a[0] + <la digits> + a[1]`` equal ``b[0] + <lb digits> + b[1]``?"""
    da, db = a[0] + "#" * la + a[1], b[0] + "#" * lb + b[1]
    if len(da) != len(db):
        return False
    lead = {len(a[0]), len(b[0])}
    for i, (x, y) in enumerate(zip(da, db, strict=True)):
        if x == "#" and y == "#":
            continue
        if x == "#" or y == "#":
            fixed = y if x == "#" else x
            if not fixed.isdigit() or (i in lead and fixed == "0"):
                return False
        elif x != y:
            return False
    return True


def find_name_collision(template: str, repos: Sequence[str]) -> tuple[str, str] | None:
    """Two repositories whose namespaces could coincide for some PR numbers, if any."""
    parts = [(r, _parts(template, r)) for r in repos]
    for i, (ra, pa) in enumerate(parts):
        for rb, pb in parts[i + 1 :]:
            for la in range(1, MAX_PR_DIGITS + 1):
                for lb in range(1, MAX_PR_DIGITS + 1):
                    if _compatible(pa, la, pb, lb):
                        return ra, rb
    return None


def check_host_template(template: str) -> None:
    """Raise ValueError unless every DNS label of the host is valid for any PR number."""
    _checked_fields(template)
    sample = template.format(number="9" * MAX_PR_DIGITS, repo="repo", owner="owner")
    labels = sample.split(".")
    if len(labels) < 2 or len(sample) > 253:
        raise ValueError("expected a fully qualified host name such as pr-{number}.preview.example.com")
    for label in labels:
        if not is_dns_label(label):
            raise ValueError(f"host label {label!r} is not a valid DNS-1123 label of <= 63 characters")


def host_name(template: str, full_name: str, number: int) -> str:
    """The preview's host: every label valid and at most 63 characters."""
    owner, repo = _split_repo(full_name)
    host = template.format(number=int(number), repo=sanitize(repo), owner=sanitize(owner))
    return ".".join(bounded(sanitize(label)) for label in host.split("."))


def object_name(*parts: str) -> str:
    """A bounded DNS-1123 label joining ``parts`` (each already a label from config or naming)."""
    return bounded(sanitize("-".join(parts)))
