"""Turn stored events into preview record updates: the one routing table of inbound events.

Each (source, event kind) is one ``Route``: its handler and how the hook checks a body before
storing it (registry hooks: the format's parser; GitHub: the payload's validator, if the kind has
one). Both are registered together, so a format cannot be received without being handled;
``check_routes`` refuses to start when a known format has no route.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from previewd.config import Config
from previewd.core.events import parse_pull_request_event, repository_of
from previewd.core.registry_events import Parser
from previewd.core.registry_formats import KINDS, github_package, parse
from previewd.jobs import argocd_status, chatops, registry_intake
from previewd.jobs.context import Changed, JobContext
from previewd.jobs.pull_requests import apply_snapshot
from previewd.jobs.registry_intake import Handler

log = logging.getLogger("previewd.intake")


def on_pull_request(ctx: JobContext, conn: Connection, payload: dict[str, Any]) -> Changed:
    action, pr = parse_pull_request_event(payload, datetime.now(UTC))
    before, after = apply_snapshot(ctx.config, ctx.store, conn, pr, action)
    return [(before, after)] if after is not None else []


@dataclass(frozen=True)
class Route:
    """One inbound event kind: who handles it and how its hook checks a body before storing it."""

    handle: Handler
    parse: Parser | None = None  # registry hooks: the body's tagged pushes, FormatError if malformed
    # GitHub hooks: raises PermanentError (answered 400) if the payload is malformed
    check: Callable[[dict[str, Any], datetime], object] | None = None


ROUTES: dict[tuple[str, str], Route] = {
    ("github", "pull_request"): Route(on_pull_request, check=parse_pull_request_event),
    ("github", "issue_comment"): Route(chatops.on_issue_comment),
    ("argocd", "notification"): Route(argocd_status.on_notification),
    **{("github", kind): Route(registry_intake.github_package_handler(kind))
       for kind in github_package.EVENT_KINDS},
    **{("registry", kind): Route(registry_intake.registry_handler(kind), partial(parse, kind)) for kind in KINDS},
}
HANDLERS: dict[tuple[str, str], Handler] = {key: route.handle for key, route in ROUTES.items()}


def check_routes(routes: dict[tuple[str, str], Route]) -> None:
    """Refuse to start when a registry format or GitHub package event has no route, or a registry
    route no parser: its notifications would be received and never handled (or the reverse)."""
    registry = {kind for (source, kind), route in routes.items() if source == "registry" and route.parse}
    unparsed = sorted(kind for (source, kind), route in routes.items() if source == "registry" and not route.parse)
    github = {kind for source, kind in routes if source == "github"}
    if registry != set(KINDS) or unparsed or not set(github_package.EVENT_KINDS) <= github:
        raise RuntimeError(f"registry kinds disagree: formats {sorted(KINDS)}, routed {sorted(registry)}, "
                           f"without parser {unparsed}; GitHub package events routed: "
                           f"{sorted(set(github_package.EVENT_KINDS) & github)}")


def wanted(config: Config, kind: str, payload: dict[str, Any]) -> bool:
    """Whether a GitHub event of a handled ``kind`` is worth storing: about a configured
    repository, or (package events) about an image a consumer claims."""
    if kind in github_package.EVENT_KINDS:
        return registry_intake.wanted_github_package(config, kind, payload)
    repo = repository_of(payload)
    return repo is not None and config.repository(repo) is not None


def decode(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("event body is not a JSON object")
    return data
