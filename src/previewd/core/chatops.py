"""ChatOps: parse ``/preview`` commands from PR comments (strict) and decide who may run them."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    START = "start"  # /preview
    STOP = "stop"  # /preview stop
    REDEPLOY = "redeploy"  # /preview redeploy


_COMMANDS = {
    ("/preview",): Command.START,
    ("/preview", "stop"): Command.STOP,
    ("/preview", "redeploy"): Command.REDEPLOY,
}

# Repository permissions (GET .../collaborators/{user}/permission) that may run commands.
ALLOWED_PERMISSIONS = frozenset({"admin", "maintain", "write"})


def parse_command(body: str) -> Command | None:
    """The command on the comment's first line, or None. Anything not exactly a command is ignored."""
    lines = body.strip().splitlines()
    if not lines:
        return None
    return _COMMANDS.get(tuple(lines[0].split()))


def may_run(permission: str | None, role_name: str | None = None) -> bool:
    """True for write, maintain or admin; ``role_name`` covers custom roles reported by GitHub."""
    return permission in ALLOWED_PERMISSIONS or role_name in ALLOWED_PERMISSIONS


def refusal(login: str) -> str:
    """The polite reply to a command from someone without write access."""
    return (
        f"Thanks @{_login(login)}! `/preview` commands can only be run by people with write "
        "access to this repository. A maintainer can add the preview label or comment "
        "`/preview` for you."
    )


def _login(login: str) -> str:
    # GitHub logins are [A-Za-z0-9-] (plus [bot]); anything else is dropped so no markup gets in.
    return "".join(c for c in login if c.isalnum() or c in "-[]")[:60]
