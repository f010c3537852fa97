"""Shared CLI plumbing: config loading and error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from previewd.errors import PreviewdError

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a PreviewdError's diagnostics and exit 2 instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PreviewdError as err:
            click.echo(err.diagnostics(), err=True)
            sys.exit(2)

    return wrapper


def config_option(required: bool = True) -> Callable[[Callable[P, R]], Callable[P, R]]:
    return click.option(
        "--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
        required=required, help="previewd.yaml",
    )

