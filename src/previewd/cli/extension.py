"""``previewd extension --domain D --out DIR``: write the reviewers' browser extension."""

from __future__ import annotations

from pathlib import Path

import click

from previewd.cli.common import reports_errors
from previewd.extension import write_extension
from previewd.propagation.value import DEFAULT_HEADER


@click.command("extension")
@click.option("--domain", required=True, help="the host the header is sent to, e.g. api.dev.example.com")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="directory to write")
@click.option("--header", default=DEFAULT_HEADER, show_default=True, help="the canary header's name")
@reports_errors
def command(domain: str, out: Path, header: str) -> None:
    """Write a Manifest V3 extension whose popup sets the PR number sent to DOMAIN."""
    write_extension(domain, out, header)
    click.echo(f"{out}: extension for {domain.lower()} ({header}); load it unpacked in Chromium or Chrome")
