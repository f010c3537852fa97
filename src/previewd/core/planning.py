"""Decide the next record of a preview from its PR snapshot (decide; never act)."""

from __future__ import annotations

from dataclasses import replace

from previewd.core.models import Decision, FileChange, Preview, PreviewState, PullRequest

_DELETE_WHY = {
    "closed": "PR closed",
    "merged": "PR merged",
    "no-label": "label removed",
    "excluded": "excluded by label",
    "draft": "converted to draft",
    "fork": "fork PR",
    "bot": "bot PR",
    "stopped": "stopped by command",
    "expired": "expired",
}


def next_preview(
    current: Preview | None,
    pr: PullRequest,
    decision: Decision,
    namespace: str,
    host: str | None,
) -> Preview:
    """The record after seeing ``pr``; ``generation`` moves only if GitOps content may change."""
    if current is None:
        current = Preview(
            repo=pr.repo,
            number=pr.number,
            pr=None,
            allowed=False,
            reason="",
            reason_code="",
            state=PreviewState.NONE,
            namespace=namespace,
            host=host,
        )
    was = (current.allowed, current.head_sha if current.allowed else None)
    now = (decision.allowed, pr.head_sha if decision.allowed else None)
    changed = was != now
    state = current.state
    if changed:
        if decision.allowed:
            state = PreviewState.PENDING
        elif current.deployed_sha or current.state not in (PreviewState.NONE, PreviewState.TORN_DOWN):
            state = PreviewState.DELETING
        else:
            state = PreviewState.NONE
    return replace(
        current,
        pr=pr,
        allowed=decision.allowed,
        reason=decision.reason,
        reason_code=decision.code,
        state=state,
        namespace=namespace,
        host=host,
        generation=current.generation + (1 if changed else 0),
    )


def change_for(preview: Preview, directory: str, files: dict[str, bytes] | None) -> FileChange:
    """The GitOps change for a preview, with its one-line commit message."""
    ref = f"preview({preview.repo}#{preview.number})"
    if files is None:
        why = _DELETE_WHY.get(preview.reason_code, preview.reason_code or "no longer wanted")
        return FileChange(directory, None, f"{ref}: delete ({why})")
    sha7 = (preview.head_sha or "")[:7]
    verb = "update to" if preview.deployed_sha else "create at"
    return FileChange(directory, files, f"{ref}: {verb} {sha7}")


def commit_message(changes: list[FileChange]) -> str:
    """One change: its line. Several: a summary line, then one line per change."""
    if len(changes) == 1:
        return changes[0].message
    lines = "\n".join(c.message for c in changes)
    return f"previewd: {len(changes)} preview changes\n\n{lines}\n"
