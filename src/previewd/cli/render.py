"""``previewd render``: write exactly what serve would commit for one PR."""

from __future__ import annotations

from pathlib import Path

import click

from previewd import naming
from previewd.changed_files import MAX_CHANGED_FILES, changed_services
from previewd.cli.common import PR_NUMBER, commit_sha, config_option, repo_name, reports_errors
from previewd.config import RepositoryConfig
from previewd.core.models import PullRequest
from previewd.core.policy import decide
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.errors import PermanentError
from previewd.images import SHA256_DIGEST, pinned
from previewd.jobs.pull_requests import trigger_of
from previewd.settings import load_config


def pinned_images(repo: RepositoryConfig, images: tuple[str, ...], unpinned: bool) -> dict[str, str]:
    """``--image NAME=DIGEST`` for every gated image of ``repo``, pinned the way serve pins them
    (``<repository>@<digest>``); ``--unpinned`` renders none, and says so by being explicit."""
    gated = {image.name: image for image in repo.images}
    if unpinned:
        if images:
            raise click.UsageError("--unpinned and --image exclude each other")
        return {}
    digests: dict[str, str] = {}
    for item in images:
        name, sep, digest = item.partition("=")
        if not sep or not SHA256_DIGEST.fullmatch(digest):
            raise click.BadParameter(f"{item!r} is not NAME=sha256:<64 hex digits>", param_hint="--image")
        if name not in gated:
            known = ", ".join(sorted(gated)) or "none"
            raise click.BadParameter(f"{name!r} is not a gated image of {repo.name} "
                                     f"(its images: {known})", param_hint="--image")
        if name in digests:
            raise click.BadParameter(f"{name!r} is given twice", param_hint="--image")
        digests[name] = digest
    missing = sorted(set(gated) - set(digests))
    if missing:
        raise click.UsageError(
            f"{repo.name} gates image(s) {', '.join(missing)}: serve would commit them pinned, so "
            "give --image NAME=sha256:... for each (or --unpinned for a preview serve would never commit)")
    return {name: pinned(gated[name].source, digest) for name, digest in digests.items()}


def canary_services(repo: RepositoryConfig, changed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The canaries serve would deploy for a PR changing ``changed`` (None: every routed one)."""
    if repo.canary is None or repo.canary.services is None:
        if changed:
            raise click.UsageError(f"--changed needs canary.services in the config of {repo.name}")
        return None
    if len(changed) > MAX_CHANGED_FILES:
        raise click.BadParameter(f"at most {MAX_CHANGED_FILES} paths", param_hint="--changed")
    return tuple(c.service for c in changed_services(
        [(s.name, s.paths) for s in repo.canary.services], changed))


@click.command("render")
@config_option()
@click.option("--repo", required=True, callback=repo_name, help="owner/name, as configured")
@click.option("--number", type=PR_NUMBER, required=True)
@click.option("--sha", required=True, callback=commit_sha, help="head commit SHA (40 hex digits)")
@click.option("--label", "labels", multiple=True, help="a label on the PR (repeatable)")
@click.option("--created-at", default="", help="the PR's created_at, as serve records it")
@click.option("--image", "images", multiple=True,
              help="NAME=sha256:... digest of a gated image (repeatable; every gated image needs one)")
@click.option("--changed", "changed", multiple=True,
              help="a path the PR changes (repeatable): picks the canaries of canary.services")
@click.option("--unpinned", is_flag=True, help="render gated images unpinned (serve never commits that)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@reports_errors
def command(config_path: Path, repo: str, number: int, sha: str, labels: tuple[str, ...],
            created_at: str, images: tuple[str, ...], changed: tuple[str, ...], unpinned: bool,
            out: Path) -> None:
    """Render one PR's preview directory into OUT (the same bytes serve commits)."""
    config = load_config(config_path)
    repo_cfg = config.repository(repo)
    if repo_cfg is None:
        raise PermanentError(f"repository {repo} is not in {config_path}")
    pins = pinned_images(repo_cfg, images, unpinned)
    pr = PullRequest(repo_cfg.name, number, "open", False, False, tuple(sorted(set(labels))), sha,
                     repo_cfg.name, "render", "User", "", created_at)
    decision = decide(pr, trigger_of(repo_cfg))
    if not decision.allowed:
        raise PermanentError(f"no preview for this PR: {decision.reason}")
    canaries = canary_services(repo_cfg, changed)
    try:
        files = render_preview(config, repo_cfg, PreviewInput(repo_cfg.name, number, sha, created_at, pins,
                                                              canary_services=canaries))
    except ValueError as err:  # a number, SHA or created_at previewd would not accept from GitHub
        raise PermanentError(f"cannot render: {err}") from None
    directory = out / naming.preview_dir(config.gitops.path, repo_cfg.name, number)
    for rel, content in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    click.echo(f"wrote {len(files)} files to {directory}")
