"""``previewd simulate``: send a correctly signed PR event to a running previewd."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import click
import httpx

from previewd.cli.common import PR_NUMBER, commit_sha, repo_name, reports_errors
from previewd.errors import PermanentError

SECRET_ENV = "PREVIEWD_WEBHOOK_SECRET"
DEFAULT_SECRET_FILE = Path(".previewd/webhook-secret")  # where `serve` on embedded defaults keeps it
TIMEOUT_S = 10.0
REJECTED_EXIT = 1  # previewd answered, but not with 2xx
MAX_DETAIL_CHARS = 200  # of the server's answer, in the one-line error


def pull_request_payload(repo: str, number: int, action: str, sha: str,
                         labels: tuple[str, ...], draft: bool) -> dict[str, object]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    owner, name = repo.split("/")
    repo_obj = {"full_name": repo, "name": name, "owner": {"login": owner}}
    return {
        "action": action,
        "number": number,
        "repository": repo_obj,
        "pull_request": {
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "merged": False,
            "draft": draft,
            "labels": [{"name": label} for label in labels],
            "head": {"sha": sha, "ref": "simulated", "repo": repo_obj},
            "base": {"sha": "0" * 40, "ref": "main", "repo": repo_obj},
            "user": {"login": "previewd-simulate", "type": "User"},
            "created_at": now,
            "updated_at": now,
        },
    }


def resolve_secret(flag: str | None, secret_file: Path | None) -> tuple[str, str]:
    """The webhook secret and where it came from: --secret, then $PREVIEWD_WEBHOOK_SECRET, then
    --secret-file (default .previewd/webhook-secret)."""
    if flag:
        return flag, "--secret"
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV], f"${SECRET_ENV}"
    path = secret_file or DEFAULT_SECRET_FILE
    if not path.is_file():
        raise PermanentError(f"no webhook secret: give --secret, set {SECRET_ENV} or --secret-file "
                             f"({path} does not exist)")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise PermanentError(f"no webhook secret: {path} is empty")
    return secret, str(path)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
        text = str(body.get("detail", body)) if isinstance(body, dict) else str(body)
    except ValueError:
        text = response.text
    return " ".join(text.split())[:MAX_DETAIL_CHARS]


@click.command("simulate")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True)
@click.option("--secret", default=None, help=f"webhook secret (default ${SECRET_ENV}, then --secret-file)")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"file holding the secret (default {DEFAULT_SECRET_FILE}, which serve writes "
                   "on embedded defaults)")
@click.option("--repo", required=True, callback=repo_name, help="owner/name")
@click.option("--number", type=PR_NUMBER, default=1, show_default=True)
@click.option("--action", default="opened", show_default=True,
              type=click.Choice(["opened", "synchronize", "labeled", "unlabeled", "closed",
                                 "reopened", "converted_to_draft", "ready_for_review"]))
@click.option("--sha", default=None, callback=commit_sha, help="head SHA (random if omitted)")
@click.option("--label", "labels", multiple=True, default=("preview",), show_default=True)
@click.option("--draft", is_flag=True)
@reports_errors
def command(url: str, secret: str | None, secret_file: Path | None, repo: str, number: int,
            action: str, sha: str | None, labels: tuple[str, ...], draft: bool) -> None:
    """Post one signed pull_request event, as GitHub would. Exits 0 only on a 2xx answer."""
    secret, source = resolve_secret(secret, secret_file)
    sha = sha or hashlib.sha1(uuid.uuid4().bytes).hexdigest()
    body = json.dumps(pull_request_payload(repo, number, action, sha, labels, draft)).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    target = url.rstrip("/") + "/hooks/github"
    try:
        response = httpx.post(
            target, content=body, timeout=TIMEOUT_S,
            headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
                     "X-Hub-Signature-256": signature, "Content-Type": "application/json"},
        )
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
        raise PermanentError(f"--url {url!r}: {err}") from None
    except httpx.HTTPError as err:
        raise PermanentError(f"cannot reach previewd at {target}: {err or type(err).__name__} "
                             "(is `previewd serve` running?)") from None
    status = f"{response.status_code} {_reason(response.status_code)}"
    if not response.is_success:
        hint = ("; it must equal the server's github.webhook_secret"
                if response.status_code == HTTPStatus.UNAUTHORIZED else "")
        click.echo(f"previewd simulate: previewd answered {status}: {_detail(response)} "
                   f"(signed with the secret from {source}{hint})", err=True)
        sys.exit(REJECTED_EXIT)
    click.echo(f"{status}: {_detail(response)} (signed with the secret from {source})")


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "(unknown status)"
