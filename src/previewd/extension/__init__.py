"""The reviewers' browser extension: a Manifest V3 extension that adds the canary header.

Its popup sets the PR number for one domain; a declarativeNetRequest dynamic rule then adds
``X-Canary: <N>`` (``modifyHeaders``) to every request the browser makes to that domain, so
the reviewer's requests reach that PR's canary. Clearing it removes the rule.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from previewd.errors import PreviewdError
from previewd.naming import is_dns_label
from previewd.propagation.value import DEFAULT_HEADER, MAX_DIGITS, header_name

MAX_DOMAIN = 253  # characters in a DNS name
ASSETS = ("popup.html", "popup.js")  # copied as they are
WRITTEN = ("manifest.json", "config.js", *ASSETS)  # every file the extension is made of
VERSION = "1.0"


class ExtensionError(PreviewdError):
    """A domain, header or output directory the extension cannot be written with."""


def check_domain(domain: str) -> str:
    """``domain`` in lower case, if it is a host name (DNS labels joined by dots); else an error."""
    name = domain.lower()
    labels = name.split(".")
    if not name or len(name) > MAX_DOMAIN or not all(is_dns_label(label) for label in labels):
        raise ExtensionError(f"--domain {domain!r} is not a host name (such as api.dev.example.com: "
                             f"DNS labels of letters, digits and '-', no scheme, port, path or wildcard)")
    return name


def manifest(domain: str, header: str) -> dict[str, object]:
    return {
        "manifest_version": 3,
        "name": f"previewd canary: {domain}",
        "version": VERSION,
        "description": f"Sends {header}: <PR number> with every request to {domain}, to reach that PR's canary.",
        "permissions": ["declarativeNetRequest"],
        "host_permissions": [f"*://{domain}/*"],
        "action": {"default_popup": "popup.html", "default_title": f"{header} for {domain}"},
    }


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExtensionError(f"--out {out}: exists and is not a directory")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in WRITTEN)
        if foreign:
            raise ExtensionError(f"--out {out}: holds files previewd did not write ({', '.join(foreign[:3])}"
                                 f"{', ...' if len(foreign) > 3 else ''}); give a new or empty directory")


def write_extension(domain: str, out: Path, header: str = DEFAULT_HEADER) -> list[Path]:
    """Write the unpacked extension into ``out`` (new, empty, or an earlier one); the files."""
    domain = check_domain(domain)
    try:
        header = header_name(header)
    except ValueError as err:
        raise ExtensionError(f"--header: {err}") from None
    _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    config = {"domain": domain, "header": header, "maxDigits": MAX_DIGITS}
    contents = {
        "manifest.json": json.dumps(manifest(domain, header), indent=2) + "\n",
        "config.js": f'"use strict";\n// Written by previewd extension.\nconst PREVIEWD = {json.dumps(config)};\n',
        **{name: resources.files(__package__).joinpath(name).read_text() for name in ASSETS},
    }
    for name, text in contents.items():
        (out / name).write_text(text)
    return [out / name for name in contents]
