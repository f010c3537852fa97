"""``previewd simulate``: send a correctly signed PR event to a running previewd."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click
import httpx

from previewd.cli.common import reports_errors


def pull_request_payload(repo: str, number: int, action: str, sha: str,
                         labels: tuple[str, ...], draft: bool) -> dict[str, object]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    repo_obj = {"full_name": repo, "name": repo.split("/")[1], "owner": {"login": repo.split("/")[0]}}
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


@click.command("simulate")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True)
@click.option("--secret", envvar="PREVIEWD_WEBHOOK_SECRET", help="webhook secret (or env)")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(".previewd/webhook-secret"), show_default=True)
@click.option("--repo", required=True)
@click.option("--number", type=int, default=1, show_default=True)
@click.option("--action", default="opened", show_default=True,
              type=click.Choice(["opened", "synchronize", "labeled", "unlabeled", "closed",
                                 "reopened", "converted_to_draft", "ready_for_review"]))
@click.option("--sha", default=None, help="head SHA (random if omitted)")
@click.option("--label", "labels", multiple=True, default=("preview",), show_default=True)
@click.option("--draft", is_flag=True)
@reports_errors
def command(url: str, secret: str | None, secret_file: Path, repo: str, number: int, action: str,
            sha: str | None, labels: tuple[str, ...], draft: bool) -> None:
    """Post one signed pull_request event, as GitHub would."""
    if not secret:
        if not secret_file.exists():
            raise click.UsageError("give --secret, PREVIEWD_WEBHOOK_SECRET or --secret-file")
        secret = secret_file.read_text().strip()
    sha = sha or hashlib.sha1(uuid.uuid4().bytes).hexdigest()
    body = json.dumps(pull_request_payload(repo, number, action, sha, labels, draft)).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    response = httpx.post(
        url.rstrip("/") + "/hooks/github",
        content=body,
        headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
                 "X-Hub-Signature-256": signature, "Content-Type": "application/json"},
        timeout=10,
    )
    click.echo(f"{response.status_code} {response.text}")
