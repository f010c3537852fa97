"""Shared CLI plumbing: config loading, argument types and error reporting.

Every mistake a user can make on the command line (a bad flag, a path that cannot be read or
written, a config previewd rejects, a server that is not there) ends as one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import click

from previewd.errors import PreviewdError

P = ParamSpec("P")
R = TypeVar("R")

USAGE_EXIT = 2  # a user error: bad flag, bad input, unreadable file, rejected config
_REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")
_SHA = re.compile(r"[0-9a-f]{40}")


def fail(message: str) -> NoReturn:
    """Print ``<command>: message`` on stderr (one line, unless the message is a list of
    problems) and exit 2."""
    ctx = click.get_current_context(silent=True)
    command = ctx.command_path if ctx is not None else "previewd"
    text = message.strip()
    click.echo(f"{command}: {text}" if "\n" in text else f"{command}: {' '.join(text.split())}",
               err=True)
    sys.exit(USAGE_EXIT)


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a PreviewdError's diagnostics, or the file an OSError is about, and exit 2 instead
    of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PreviewdError as err:
            fail(err.diagnostics())
        except OSError as err:  # a path given on the command line cannot be read or written
            where = f"{err.filename}: " if err.filename else ""
            fail(f"{where}{err.strerror or err}")

    return wrapper


def config_option(required: bool = True) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return click.option(
        "--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
        required=required, help="previewd.yaml",
    )


def repo_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Click callback: ``owner/name`` as GitHub spells repositories."""
    if not _REPO_NAME.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not owner/name (for example acme/shop)")
    return value


def commit_sha(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Click callback: a full commit id (40 lower-case hex digits), or unset."""
    if value is not None and not _SHA.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a commit id (40 hex digits)")
    return value


PR_NUMBER = click.IntRange(min=1)


def run_cli(group: click.Group) -> None:
    """Run ``group`` as the program: click's usage errors become one line and exit 2."""
    try:
        code = group.main(prog_name="previewd", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("previewd: aborted", err=True)
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as err:
        err.show()  # `previewd` or `previewd release` alone: the help text, as click prints it
        sys.exit(err.exit_code)
    except click.ClickException as err:
        ctx = getattr(err, "ctx", None)
        command = ctx.command_path if ctx is not None else "previewd"
        hint = f" (see '{command} --help')" if isinstance(err, click.UsageError) else ""
        click.echo(f"{command}: {' '.join(err.format_message().split())}{hint}", err=True)
        sys.exit(USAGE_EXIT if isinstance(err, click.UsageError) else err.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
