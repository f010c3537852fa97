"""What a PR should show about its preview: sticky comment text, Deployment and commit status.

Pure: the publisher compares this desired feedback with what it last published and makes
only the calls that differ. Nothing here is taken verbatim from PR free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from previewd.core.canary_feedback import CANARY_KEY, comment_lines
from previewd.core.models import IMAGE_WAIT_KEY, Preview, PreviewState

MARKER_PREFIX = "<!-- previewd:sticky"
STATUS_CONTEXT = "previewd"
MAX_POSTED_FINDINGS = 20  # bundle-check findings the comment shows (more are stored)


def marker(repo: str, number: int) -> str:
    """The hidden marker that finds the sticky comment again."""
    return f"{MARKER_PREFIX} {_safe_repo(repo)}#{int(number)} -->"


def environment(number: int) -> str:
    return f"preview/pr-{int(number)}"


@dataclass(frozen=True)
class FeedbackFacts:
    """Config-derived facts the comment needs besides the preview record."""

    label_mode: bool  # the trigger needs a label
    label: str | None  # the first trigger label, for "what to do next"
    argocd_url: str | None  # Argo CD web UI
    findings: tuple[str, ...] = ()  # deploy bundle check findings, when it failed


@dataclass(frozen=True)
class DeploymentTarget:
    sha: str
    state: str  # in_progress | success | failure | inactive
    description: str
    environment_url: str | None


@dataclass(frozen=True)
class CommitStatusTarget:
    sha: str
    state: str  # pending | success | failure | error
    description: str


@dataclass(frozen=True)
class Feedback:
    comment: str | None  # None: no comment wanted (an existing one is left as it is)
    deployment: DeploymentTarget | None
    status: CommitStatusTarget | None


_WHY_NOT = {"fork", "draft", "bot", "excluded"}
_LIVE = {PreviewState.PENDING, PreviewState.WAITING_FOR_IMAGE, PreviewState.DEPLOYING,
         PreviewState.READY, PreviewState.DEGRADED, PreviewState.FAILED}


def url_of(preview: Preview) -> str | None:
    return f"https://{preview.host}" if preview.host else None


def argocd_link(facts: FeedbackFacts, preview: Preview) -> str | None:
    if not facts.argocd_url:
        return None
    return f"{facts.argocd_url}/applications/{preview.namespace}"


def desired(preview: Preview, facts: FeedbackFacts, has_comment: bool) -> Feedback:
    """The feedback ``preview`` should have now."""
    return Feedback(_comment(preview, facts, has_comment), _deployment(preview), _status(preview))


def headline(preview: Preview) -> tuple[str, str]:
    """(short state word, one sentence) for the preview's current state."""
    state = preview.state
    if state in (PreviewState.PENDING, PreviewState.WAITING_FOR_IMAGE):
        wait = preview.extra.get(IMAGE_WAIT_KEY) or {}
        missing = wait.get("missing") if isinstance(wait, dict) else None
        what = (f"waiting for {_plain(str(missing))}" if state == PreviewState.WAITING_FOR_IMAGE and missing
                else "waiting for the PR's images" if state == PreviewState.WAITING_FOR_IMAGE
                else "waiting to be deployed")
        return "waiting", f"The preview is {what}."
    if state == PreviewState.DEPLOYING:
        return "deploying", "The preview is committed to GitOps; Argo CD is deploying it."
    if state == PreviewState.READY:
        return "ready", "The preview is ready."
    if state == PreviewState.DEGRADED:
        return "degraded", "The preview is deployed but Argo CD reports it degraded."
    if state == PreviewState.FAILED:
        return "failed", "The preview could not be deployed."
    if state == PreviewState.DELETING:
        return "tearing down", f"The preview is being torn down ({preview.reason})."
    if state == PreviewState.TORN_DOWN:
        return "torn down", f"The preview was torn down ({preview.reason})."
    return "no preview", f"No preview: {preview.reason}."


def _comment(preview: Preview, facts: FeedbackFacts, has_comment: bool) -> str | None:
    live = preview.state in _LIVE or preview.state in (PreviewState.DELETING, PreviewState.TORN_DOWN)
    why_not = preview.state == PreviewState.NONE and preview.reason_code in _WHY_NOT
    if not live and not why_not and not has_comment:
        return None
    if why_not and not has_comment and facts.label_mode and preview.pr is not None \
            and facts.label not in preview.pr.labels and not preview.extra.get("requested"):
        return None  # label mode: a PR nobody asked a preview for gets no comment
    word, sentence = headline(preview)
    sha = _sha(preview.head_sha)
    lines = [marker(preview.repo, preview.number), f"### Preview environment: **{word}**", "", sentence, ""]
    url = url_of(preview)
    rows = []
    if url and preview.state in _LIVE:
        rows.append(f"| URL | {url} |")
    rows.append(f"| Namespace | `{preview.namespace}` |")
    if sha:
        rows.append(f"| Head commit | `{sha[:12]}` |")
    link = argocd_link(facts, preview)
    if link and preview.state in _LIVE:
        rows.append(f"| Argo CD | [{preview.namespace}]({link}) |")
    lines += ["| | |", "|---|---|", *rows, ""]
    if preview.state in _LIVE:
        lines += comment_lines(preview.extra.get(CANARY_KEY), preview.number)
    if preview.state == PreviewState.FAILED and facts.findings:
        lines += ["The deploy bundle failed the checks `previewd lint` runs:", "", "```text",
                  *[_plain(f) for f in facts.findings[:MAX_POSTED_FINDINGS]], "```", ""]
    lines += [f"**Next:** {_next_step(preview, facts)}", ""]
    return "\n".join(lines)


def _next_step(preview: Preview, facts: FeedbackFacts) -> str:
    state = preview.state
    if state == PreviewState.READY:
        return "open the URL to review. Push commits to update it; `/preview stop` removes it."
    if state in (PreviewState.PENDING, PreviewState.WAITING_FOR_IMAGE, PreviewState.DEPLOYING):
        return "nothing; this comment updates itself. `/preview stop` cancels."
    if state == PreviewState.FAILED:
        return "fix the problem and push a commit, or comment `/preview redeploy` to retry."
    if state == PreviewState.DEGRADED:
        return "check the application in Argo CD; push a fix or comment `/preview redeploy`."
    if preview.reason_code == "draft":
        return "mark the PR ready for review, or comment `/preview` (write access needed)."
    if preview.reason_code in ("fork", "bot"):
        return ("nothing here: previewd's configuration (`trigger.forks` / `trigger.bots`) decides "
                "whether such PRs get previews.")
    if preview.reason_code == "excluded":
        return "remove the excluding label to get a preview."
    if preview.reason_code == "no-label" and facts.label:
        return f"add the `{_plain(facts.label)}` label or comment `/preview` to get a preview."
    if preview.reason_code == "stopped":
        return "comment `/preview` to start it again."
    return "nothing."


def _deployment(preview: Preview) -> DeploymentTarget | None:
    sha = preview.deployed_sha or (preview.head_sha if preview.allowed else None)
    if not sha:
        return None
    url = url_of(preview)
    state = preview.state
    if state == PreviewState.DEPLOYING:
        return DeploymentTarget(sha, "in_progress", "deploying through Argo CD", None)
    if state == PreviewState.READY:
        return DeploymentTarget(sha, "success", "preview ready", url)
    if state in (PreviewState.FAILED, PreviewState.DEGRADED):
        return DeploymentTarget(sha, "failure", f"preview {state.value}", None)
    if state in (PreviewState.DELETING, PreviewState.TORN_DOWN):
        return DeploymentTarget(sha, "inactive", "preview torn down", None)
    return None


def _status(preview: Preview) -> CommitStatusTarget | None:
    sha = preview.head_sha
    if not sha or not preview.allowed:
        return None
    state = preview.state
    if state in (PreviewState.PENDING, PreviewState.WAITING_FOR_IMAGE):
        return CommitStatusTarget(sha, "pending", "preview waiting")
    if state == PreviewState.DEPLOYING:
        return CommitStatusTarget(sha, "pending", "preview deploying")
    if state == PreviewState.READY:
        return CommitStatusTarget(sha, "success", "preview ready")
    if state == PreviewState.DEGRADED:
        return CommitStatusTarget(sha, "failure", "preview degraded")
    if state == PreviewState.FAILED:
        return CommitStatusTarget(sha, "failure", "preview failed")
    return None


def _sha(value: str | None) -> str:
    return value if value and re.fullmatch(r"[0-9a-f]{7,64}", value) else ""


def _safe_repo(repo: str) -> str:
    return re.sub(r"[^A-Za-z0-9._/-]", "", repo)


def _plain(text: str) -> str:
    """Attacker-influenced text (bundle file names, messages) made inert inside a code block."""
    return text.replace("`", "'").replace("\r", " ").replace("\n", " ")[:300]
