"""``previewd bootstrap``: write the one-time install manifests."""

from __future__ import annotations

from pathlib import Path

import click

from previewd.cli.common import config_option, reports_errors
from previewd.core.render.bootstrap import bootstrap_files
from previewd.settings import load_config


@click.command("bootstrap")
@config_option()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--argocd-version", default=None, metavar="VERSION",
              help="the cluster's Argo CD version (argocd version); refuses one too old for the previews project")
@reports_errors
def command(config_path: Path, out: Path, argocd_version: str | None) -> None:
    """Write the one-time install manifests into OUT: the previews and root AppProjects, the
    root Application, the admission guard, and (when configured) the Argo CD Notifications
    ConfigMap and the platform-namespace policy."""
    config = load_config(config_path)
    files = bootstrap_files(config, argocd_version)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)
    click.echo(f"wrote {len(files)} files to {out}")
