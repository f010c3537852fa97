"""``previewd release``: check a state-repository checkout, render an app-env, and list or
promote pending releases through a running previewd (the one writer of the state repo)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import httpx

from previewd.cli.common import config_option, reports_errors
from previewd.config import ReleasesConfig
from previewd.errors import PermanentError, TransientError
from previewd.releases.contract import (
    APP_ENV_FILE,
    RELEASE_FILE,
    ContractError,
    parse_app_env,
    parse_release,
)
from previewd.releases.render import render_bytes
from previewd.releases.scan import InvalidYaml, check, read_yaml
from previewd.settings import load_config

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")


@click.group("release")
def group() -> None:
    """Registry-driven releases (app-env.yaml / release.yaml)."""


def _releases(config_path: Path | None) -> ReleasesConfig | None:
    if config_path is None:
        return None
    releases = load_config(config_path).releases
    if releases is None:
        raise PermanentError(f"{config_path} has no releases: section")
    return releases


@group.command("check")
@click.argument("checkout", type=click.Path(exists=True, file_okay=False, path_type=Path))
@config_option(required=False)
@click.option("--path", "base", default=None, help="scanned directory (default releases.gitops.path "
              "or 'workspaces')")
@click.option("--environment", "environments", multiple=True,
              help="allowed environment (repeatable; default from config or dev, staging, prod)")
@reports_errors
def check_command(checkout: Path, config_path: Path | None, base: str | None,
                  environments: tuple[str, ...]) -> None:
    """Validate every app-env.yaml and release.yaml in CHECKOUT; exit 1 on any problem."""
    releases = _releases(config_path)
    base = base or (releases.gitops.path if releases else "workspaces")
    allowed = list(environments) or (releases.environments if releases else list(DEFAULT_ENVIRONMENTS))
    result = check(checkout, base.strip("/"), allowed)
    for problem in result.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"{len(result.entries)} app-envs, {len(result.index.claims)} repositories, "
               f"{len(result.problems)} problems")
    if result.problems:
        sys.exit(1)


def _load_pair(env_dir: Path) -> tuple[Any, Any]:
    try:
        env = parse_app_env(read_yaml(env_dir / APP_ENV_FILE), str(env_dir / APP_ENV_FILE))
        release = parse_release(read_yaml(env_dir / RELEASE_FILE), str(env_dir / RELEASE_FILE))
    except ContractError as err:
        raise PermanentError("\n".join(f"{err.source}: {p}" for p in err.problems)) from None
    except (OSError, InvalidYaml) as err:
        raise PermanentError(f"cannot read {env_dir}: {err}") from None
    return env, release


@group.command("render")
@click.argument("env_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write here instead of standard output")
@reports_errors
def render_command(env_dir: Path, out: Path | None) -> None:
    """Render ENV_DIR's app-env.yaml + release.yaml into Deployment, Service and Ingress
    (what the Argo CD config management plugin runs)."""
    env, release = _load_pair(env_dir)
    content = render_bytes(env, release)
    if out is None:
        click.echo(content.decode(), nl=False)
    else:
        out.write_bytes(content)


def _server(config_path: Path, url: str | None) -> tuple[str, str | None]:
    config = load_config(config_path)
    token = config.releases.api_token if config.releases else None
    base = url or f"http://{config.server.listen}"
    return base.rstrip("/"), token.get_secret_value() if token else None


def _call(method: str, url: str, token: str | None = None, body: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, url, json=body, headers=headers, timeout=60)
    except httpx.HTTPError as err:
        raise TransientError(f"cannot reach previewd at {url}: {type(err).__name__}") from None
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        data = {"detail": response.text}
    if response.status_code >= 400 and response.status_code != 409:
        raise PermanentError(f"previewd answered {response.status_code}: {data.get('detail', data)}")
    return data


@group.command("pending")
@config_option()
@click.option("--url", default=None, help="previewd's base URL (default from server.listen)")
@reports_errors
def pending_command(config_path: Path, url: str | None) -> None:
    """List releases waiting for promotion (manual deploy policy)."""
    base, _token = _server(config_path, url)
    rows = _call("GET", f"{base}/api/releases/pending")["pending"]
    if not rows:
        click.echo("no pending releases")
    for row in rows:
        ref = f"{row['repository']}:{row['tag']}" if row["tag"] else row["repository"]
        click.echo(f"{row['env_path']}  {ref}@{row['digest']}  (seen {row['seen_at']})")


@group.command("promote")
@click.argument("env_path")
@config_option()
@click.option("--tag", default=None, help="release this tag (its digest is resolved now)")
@click.option("--digest", default=None, help="release this digest")
@click.option("--url", default=None, help="previewd's base URL (default from server.listen)")
@reports_errors
def promote_command(env_path: str, config_path: Path, tag: str | None, digest: str | None,
                    url: str | None) -> None:
    """Release --tag or --digest to ENV_PATH (the app-env directory in the state repo)."""
    if (tag is None) == (digest is None):
        raise click.UsageError("give exactly one of --tag or --digest")
    base, token = _server(config_path, url)
    body = {"env": env_path, **({"tag": tag} if tag else {"digest": digest})}
    outcome = _call("POST", f"{base}/api/releases/promote", token, body)
    click.echo(f"{outcome['action']}: {outcome['detail']}"
               + (f" (commit {outcome['commit'][:12]})" if outcome.get("commit") else ""))
    if outcome["action"] == "conflict":
        sys.exit(1)
