"""What the PR comment says about canaries: which services run as canaries, and why.

The record lives in ``Preview.extra[CANARY_KEY]``: a list of ``{service, path, glob}`` (the
first changed file that made the service a canary, and the glob it matched); ``[]`` when the
PR changed nothing mapped; absent when the repository maps no services. The changed file name
is PR content: it is shown only as inert inline code, bounded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from previewd.changed_files import CanaryChoice

CANARY_KEY = "canary"
MAX_SHOWN_PATH = 120  # characters of a changed file name in the comment
_UNSAFE = re.compile(r"[^A-Za-z0-9._/@+-]")
_GLOB_UNSAFE = re.compile(r"[^A-Za-z0-9._/@+*?\[\]!-]")  # globs are config, checked at load


def to_record(choices: Sequence[CanaryChoice]) -> list[dict[str, str]]:
    return [{"service": c.service, "path": c.path[:MAX_SHOWN_PATH], "glob": c.glob} for c in choices]


def _inert(text: object, unsafe: re.Pattern[str] = _UNSAFE) -> str:
    return unsafe.sub("?", str(text))[:MAX_SHOWN_PATH]


def comment_lines(record: Any, number: int) -> list[str]:
    """Markdown lines for the comment; [] when the repository maps no services."""
    if not isinstance(record, list):
        return []
    if not record:
        return ["**Canary:** none. This PR changes no path mapped to a service, so requests with the "
                "canary header keep going to stable.", ""]
    lines = [f"**Canary:** requests with the canary header set to `{int(number)}` reach:", ""]
    for item in record:
        if isinstance(item, dict):
            lines.append(f"- `{_inert(item.get('service'))}`: changed `{_inert(item.get('path'))}` "
                         f"(matches `{_inert(item.get('glob'), _GLOB_UNSAFE)}`)")
    lines += ["", "Every other service keeps serving those requests from stable.", ""]
    return lines
