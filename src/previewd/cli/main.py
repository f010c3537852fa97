"""``previewd`` entry point."""

from __future__ import annotations

import click

from previewd import __version__
from previewd.cli import bootstrap, check_config, extension, lint, release, render, serve, simulate
from previewd.cli.common import run_cli


@click.group()
@click.version_option(__version__, prog_name="previewd")
def cli() -> None:
    """previewd: a preview environment per pull request, through GitOps."""


for command in (serve.command, render.command, bootstrap.command, lint.command,
                check_config.command, simulate.command, release.group, extension.command):
    cli.add_command(command)


def main() -> None:
    run_cli(cli)


if __name__ == "__main__":
    main()
