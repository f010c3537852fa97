"""Normalised events parsed from webhook payloads (pydantic models, unknown fields ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from previewd.core.models import PullRequest
from previewd.errors import PermanentError


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Repo(_Payload):
    full_name: str


class _User(_Payload):
    login: str
    type: str = "User"


class _Label(_Payload):
    name: str


class _Ref(_Payload):
    sha: str
    repo: _Repo | None = None


class _PullRequestBody(_Payload):
    number: int
    state: str
    merged: bool | None = False
    draft: bool | None = False
    labels: list[_Label] = []
    head: _Ref
    base: _Ref
    user: _User
    updated_at: str
    created_at: str = ""


class PullRequestPayload(_Payload):
    """The parts of a ``pull_request`` webhook previewd uses."""

    action: str
    pull_request: _PullRequestBody
    repository: _Repo


def _snapshot(pr: _PullRequestBody, repository: str = "") -> PullRequest:
    """The PullRequest of a validated ``pull_request`` object; ``repository`` when it names no base."""
    return PullRequest(
        repo=(pr.base.repo.full_name if pr.base.repo else "") or repository,
        number=pr.number,
        state=pr.state,
        merged=bool(pr.merged),
        draft=bool(pr.draft),
        labels=tuple(sorted({label.name for label in pr.labels})),
        head_sha=pr.head.sha,
        head_repo=pr.head.repo.full_name if pr.head.repo else None,
        author_login=pr.user.login,
        author_type=pr.user.type,
        updated_at=pr.updated_at,
        created_at=pr.created_at,
    )


def pull_request_from_api(body: dict[str, Any]) -> PullRequest:
    """Build a PullRequest snapshot from a REST/webhook ``pull_request`` object."""
    try:
        pr = _PullRequestBody.model_validate(body)
    except ValidationError as err:
        raise PermanentError(f"not a pull request object: {err.error_count()} problem(s)") from None
    return _snapshot(pr)


def parse_pull_request_event(payload: dict[str, Any]) -> tuple[str, PullRequest]:
    """(action, PR snapshot) from a ``pull_request`` webhook payload."""
    try:
        event = PullRequestPayload.model_validate(payload)
    except ValidationError as err:
        raise PermanentError(f"malformed pull_request payload: {err.error_count()} problem(s)") from None
    return event.action, _snapshot(event.pull_request, event.repository.full_name)


def repository_of(payload: dict[str, Any]) -> str | None:
    """The ``repository.full_name`` of any webhook payload, if present."""
    repo = payload.get("repository")
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) else None
