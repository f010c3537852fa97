"""``previewd check-config FILE``."""

from __future__ import annotations

from pathlib import Path

import click

from previewd.cli.common import reports_errors
from previewd.settings import load_config


@click.command("check-config")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def command(path: Path) -> None:
    """Validate a previewd.yaml; exit 2 with every problem named by key path."""
    config = load_config(path)
    click.echo(f"{path}: ok ({len(config.repositories)} repositories)")
