"""The dashboard lists every preview with its state and reason, and escapes everything."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from previewd.http.app import create_app
from previewd.runtime.service import build_service
from previewd.settings import parse_config
from tests.support import SECRET, base_config, make_bare, pr_payload


def test_dashboard_shows_previews_and_escapes_pr_data(tmp_path: Path) -> None:
    bare = make_bare(tmp_path / "gitops.git")
    service = build_service(parse_config(base_config(tmp_path, bare), {"PREVIEWD_WEBHOOK_SECRET": SECRET}))
    good = pr_payload(number=7, sha="c" * 40)
    hostile = pr_payload(number=8, sha="d" * 40, labels=("preview", "no-preview"))
    hostile["pull_request"]["title"] = "<script>alert(1)</script>"
    for n, payload in enumerate((good, hostile)):
        service.store.add_event("github", f"d{n}", "pull_request", json.dumps(payload).encode())
    service.worker.step()
    response = TestClient(create_app(service, run_worker=False)).get("/")
    assert response.status_code == 200
    page = response.text
    assert "acme/shop#7" in page and "deploying" in page and "pr-7-shop" in page
    assert "acme/shop#8" in page and "label &#x27;no-preview&#x27; excludes previews" in page
    assert "<script" not in page
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
