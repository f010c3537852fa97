"""The dashboard page: every preview, its state and the reason, as one escaped HTML table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from previewd.core.models import IMAGE_WAIT_KEY, Preview, PreviewState
from previewd.core.values import printable

_COLOURS = {
    PreviewState.READY: "#1a7f37", PreviewState.DEPLOYING: "#9a6700",
    PreviewState.PENDING: "#9a6700", PreviewState.WAITING_FOR_IMAGE: "#9a6700",
    PreviewState.DEGRADED: "#bc4c00", PreviewState.FAILED: "#cf222e",
}
_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:2rem;color:#1f2328}"
    "table{border-collapse:collapse;width:100%}th,td{padding:.35rem .6rem;text-align:left;"
    "border-bottom:1px solid #d0d7de;vertical-align:top}th{background:#f6f8fa}"
    "code{font-size:12px}.state{font-weight:600}.muted{color:#656d76}"
)


def _row(p: Preview, web_url: str) -> str:
    pr_url = f"{web_url}/{p.repo}/pull/{p.number}"
    colour = _COLOURS.get(p.state, "#656d76")
    live = p.host and p.state in (PreviewState.READY, PreviewState.DEPLOYING, PreviewState.DEGRADED)
    host = f'<a href="https://{escape(p.host)}">{escape(p.host)}</a>' if live and p.host else \
        f'<span class="muted">{escape(p.host or "")}</span>'
    wait = p.extra.get(IMAGE_WAIT_KEY) or {}
    detail = escape(p.reason)
    if p.state in (PreviewState.WAITING_FOR_IMAGE, PreviewState.FAILED) and wait.get("missing"):
        detail += f'<br><span class="muted">waiting for {escape(str(wait["missing"]))}</span>'
    return (
        f'<tr><td><a href="{escape(pr_url)}">{escape(p.repo)}#{p.number}</a></td>'
        f'<td class="state" style="color:{colour}">{escape(p.state.value)}</td>'
        f"<td><code>{escape(p.namespace)}</code></td><td>{host}</td>"
        f"<td><code>{escape((p.head_sha or '')[:7])}</code></td><td>{detail}</td></tr>"
    )


def render_dashboard(previews: Sequence[Preview], web_url: str, version: str) -> str:
    """A self-contained page (no scripts, no external assets) that refreshes itself."""
    counts = Counter(p.state.value for p in previews)
    summary = ", ".join(f"{n} {escape(s)}" for s, n in sorted(counts.items())) or "no previews yet"
    rows = "".join(_row(p, web_url.rstrip("/")) for p in previews)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="10"><title>previewd</title>'
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>previewd <span class="muted">{escape(version)}</span></h1><p>{summary}</p>'
        "<table><thead><tr><th>Pull request</th><th>State</th><th>Namespace</th><th>URL</th>"
        f"<th>Head</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>"
        '<p class="muted">JSON: <a href="/api/previews">/api/previews</a> · '
        '<a href="/api/status">/api/status</a> · <a href="/metrics">/metrics</a></p>'
        "</body></html>"
    )
    return printable(page)  # stored text UTF-8 cannot encode (a lone surrogate) shows as U+FFFD
