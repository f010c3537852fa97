"""``previewd bootstrap``: write the one-time install manifests."""

from __future__ import annotations

from pathlib import Path

import click

from previewd.cli.common import config_option, load, reports_errors
from previewd.core.render.bootstrap import bootstrap_files


@click.command("bootstrap")
@config_option()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@reports_errors
def command(config_path: Path, out: Path) -> None:
    """Write the AppProject, the root Application and the admission guard into OUT."""
    config = load(config_path)
    files = bootstrap_files(config)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)
    click.echo(f"wrote {len(files)} files to {out}")
