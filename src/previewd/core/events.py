"""Normalised events parsed from webhook payloads and GitHub API answers (pydantic models,
unknown fields ignored, every field the decisions read required, typed and bounded).

A payload that breaks any rule is refused whole: a webhook with ``PermanentError`` (answered
400, or given up by the worker), an API answer with ``TransientError`` (retried later; the
resync tears nothing down on a malformed answer). Nothing is ever defaulted to an empty value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from previewd.core.limits import (
    COMMIT_SHA_CHARS,
    MAX_EVENT_ACTION_CHARS,
    MAX_LABEL_NAME_CHARS,
    MAX_LABELS,
    MAX_LOGIN_CHARS,
    MAX_REPO_NAME_CHARS,
    MAX_USER_TYPE_CHARS,
    PR_NUMBER_MAX,
    PR_NUMBER_MIN,
)
from previewd.core.models import PullRequest
from previewd.core.values import normal_timestamp, parse_timestamp, text_problem
from previewd.errors import PermanentError, TransientError


def _text(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        problem = text_problem(value, limit)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _timestamp(value: str) -> str:
    parse_timestamp(value)  # ValueError for anything that is not an RFC 3339 date-time
    return value


PrNumber = Annotated[int, Field(ge=PR_NUMBER_MIN, le=PR_NUMBER_MAX)]
RepoName = Annotated[str, Field(min_length=3, max_length=MAX_REPO_NAME_CHARS,
                                pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
CommitSha = Annotated[str, Field(pattern=rf"^[0-9a-f]{{{COMMIT_SHA_CHARS}}}$")]
Login = Annotated[str, Field(min_length=1, max_length=MAX_LOGIN_CHARS,
                             pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\[\]-]*$")]
LabelName = Annotated[str, Field(min_length=1), _text(MAX_LABEL_NAME_CHARS)]
Timestamp = Annotated[str, AfterValidator(_timestamp)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class _Repo(_Payload):
    full_name: RepoName


class _User(_Payload):
    login: Login
    type: Annotated[str, Field(min_length=1), _text(MAX_USER_TYPE_CHARS)]


class _Label(_Payload):
    name: LabelName


class _Head(_Payload):
    sha: CommitSha
    repo: _Repo | None  # required; null when the fork was deleted


class _Base(_Payload):
    sha: CommitSha
    repo: _Repo | None = None


class _PullRequestBody(_Payload):
    number: PrNumber
    state: Literal["open", "closed"]
    merged: bool | None = False  # absent from list answers (all open there)
    draft: bool
    labels: Annotated[list[_Label], Field(max_length=MAX_LABELS)]
    head: _Head
    base: _Base
    user: _User
    updated_at: Timestamp
    created_at: Timestamp | None = None


class PullRequestPayload(_Payload):
    """The parts of a ``pull_request`` webhook previewd uses."""

    action: Annotated[str, Field(min_length=1, max_length=MAX_EVENT_ACTION_CHARS,
                                    pattern=r"^[a-z_]+$")]
    pull_request: _PullRequestBody
    repository: _Repo


def _snapshot(pr: _PullRequestBody, now: datetime | None, repository: str = "") -> PullRequest:
    """The PullRequest of a validated ``pull_request`` object; ``repository`` when it names no base.

    Timestamps are stored in one normal form (UTC, to the second) so they order as strings;
    ValueError if ``updated_at`` lies beyond the allowed clock skew past ``now`` (the current
    time when None; see ``normal_timestamp``).
    """
    now = now or datetime.now(UTC)
    return PullRequest(
        repo=(pr.base.repo.full_name if pr.base.repo else "") or repository,
        number=pr.number,
        state=pr.state,
        merged=bool(pr.merged),
        draft=pr.draft,
        labels=tuple(sorted({label.name for label in pr.labels})),
        head_sha=pr.head.sha,
        head_repo=pr.head.repo.full_name if pr.head.repo else None,
        author_login=pr.user.login,
        author_type=pr.user.type,
        updated_at=normal_timestamp(pr.updated_at, now),
        created_at=normal_timestamp(pr.created_at) if pr.created_at else "",
    )


def _problems(err: ValidationError) -> str:
    """A short, bounded summary of what was wrong (field paths only, never the values)."""
    paths = sorted({".".join(str(p) for p in e["loc"]) or "<root>" for e in err.errors()})
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return f"{err.error_count()} problem(s) at {shown}"


def pull_request_from_api(body: Any, now: datetime | None = None, repository: str = "") -> PullRequest:
    """A PullRequest snapshot from a GitHub REST ``pull_request`` object.

    A malformed answer raises ``TransientError``: GitHub's answer is retried later, and the
    caller must treat it like a failed request (never as "no labels" or "closed").
    """
    try:
        pr = _PullRequestBody.model_validate(body)
        return _snapshot(pr, now, repository)
    except ValidationError as err:
        raise TransientError(f"GitHub sent a malformed pull request: {_problems(err)}") from None
    except ValueError as err:
        raise TransientError(f"GitHub sent a malformed pull request: updated_at {err}") from None


def parse_pull_request_event(payload: Any, now: datetime | None = None) -> tuple[str, PullRequest]:
    """(action, PR snapshot) from a ``pull_request`` webhook payload; PermanentError if malformed."""
    try:
        event = PullRequestPayload.model_validate(payload)
        return event.action, _snapshot(event.pull_request, now, event.repository.full_name)
    except ValidationError as err:
        raise PermanentError(f"malformed pull_request payload: {_problems(err)}") from None
    except ValueError as err:
        raise PermanentError(f"malformed pull_request payload: pull_request.updated_at {err}") from None


def repository_of(payload: dict[str, Any]) -> str | None:
    """The ``repository.full_name`` of any webhook payload, if present."""
    repo = payload.get("repository")
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) else None
