"""``previewd render``: write exactly what serve would commit for one PR."""

from __future__ import annotations

from pathlib import Path

import click

from previewd.cli.common import config_option, reports_errors
from previewd.core import naming
from previewd.core.models import PullRequest
from previewd.core.policy import decide
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.errors import PermanentError
from previewd.jobs.pull_requests import trigger_of
from previewd.settings import load_config


@click.command("render")
@config_option()
@click.option("--repo", required=True, help="owner/name, as configured")
@click.option("--number", type=int, required=True)
@click.option("--sha", required=True, help="head commit SHA (40 hex digits)")
@click.option("--label", "labels", multiple=True, help="a label on the PR (repeatable)")
@click.option("--created-at", default="", help="the PR's created_at, as serve records it")
@click.option("--image", "images", multiple=True, help="NAME=REPO@sha256:... pinned image")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@reports_errors
def command(config_path: Path, repo: str, number: int, sha: str, labels: tuple[str, ...],
            created_at: str, images: tuple[str, ...], out: Path) -> None:
    """Render one PR's preview directory into OUT (the same bytes serve commits)."""
    config = load_config(config_path)
    repo_cfg = config.repository(repo)
    if repo_cfg is None:
        raise PermanentError(f"repository {repo} is not in {config_path}")
    pr = PullRequest(repo_cfg.name, number, "open", False, False, tuple(sorted(set(labels))), sha,
                     repo_cfg.name, "render", "User", "", created_at)
    decision = decide(pr, trigger_of(repo_cfg))
    if not decision.allowed:
        raise PermanentError(f"no preview for this PR: {decision.reason}")
    pinned = dict(i.split("=", 1) for i in images)
    files = render_preview(config, repo_cfg, PreviewInput(repo_cfg.name, number, sha, created_at, pinned))
    directory = out / naming.preview_dir(config.gitops.path, repo_cfg.name, number)
    for rel, content in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    click.echo(f"wrote {len(files)} files to {directory}")
