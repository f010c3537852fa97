"""``previewd serve``: the webhook server and worker."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from pydantic import ValidationError

from previewd.cli.common import config_option, reports_errors
from previewd.config import ServerConfig
from previewd.errors import ConfigError, validation_problems
from previewd.http.app import create_app
from previewd.http.server import serve
from previewd.runtime.service import build_service
from previewd.settings import STATE_DIR, embedded_defaults, load_config


@click.command("serve")
@config_option(required=False)
@click.option("--listen", default=None, help="host:port, overriding server.listen")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error", "critical"], case_sensitive=False))
@reports_errors
def command(config_path: Path | None, listen: str | None, log_level: str) -> None:
    """Serve webhooks and keep the GitOps repo converged (embedded defaults without --config)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per outbound request is noise
    config = embedded_defaults() if config_path is None else load_config(config_path)
    if listen is not None:
        try:
            server = ServerConfig.model_validate({**config.server.model_dump(), "listen": listen})
        except ValidationError as err:
            raise ConfigError([f"--listen: {p.partition(': ')[2]}" for p in validation_problems(err)],
                              "command line") from None
        config = config.model_copy(update={"server": server})
    if config_path is None:
        click.echo(f"previewd: no --config given; running on embedded defaults under {STATE_DIR}/")
        service = build_service(config, state_dir=STATE_DIR)
    else:
        service = build_service(config)
    app = create_app(service)
    click.echo(f"previewd: listening on http://{config.server.listen} "
               f"({len(config.repositories)} repositories, GitOps {config.gitops.url})")
    serve(app, config.server.host, config.server.port)
