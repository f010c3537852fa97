"""``previewd lint PATH``: check a deploy bundle against the preview contract."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from previewd.adapters import kustomize
from previewd.cli.common import reports_errors
from previewd.jobs.lint_bundle import lint_bundle


@click.command("lint")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@reports_errors
def command(path: Path) -> None:
    """Exit 0 only when the bundle at PATH is clean; each finding names file, resource, rule."""
    click.echo(f"kustomize {kustomize.kustomize_version()} ({kustomize.kubectl_path()})")
    findings = lint_bundle(path)
    for finding in findings:
        click.echo(str(finding))
    if findings:
        click.echo(f"{len(findings)} finding(s)", err=True)
        sys.exit(1)
    click.echo(f"{path}: ok")
