"""``previewd render`` writes the bytes ``serve`` commits, gated images included (issue 9
item 16): a real registry, a real serve, the real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.registry_support import OciLayout, Registry, skopeo_push
from tests.support import (
    SECRET,
    Serve,
    base_config,
    pr_payload,
    previewd,
    remote_files,
    wait_for,
    write_config,
)

SHA = "3" * 40
CREATED = "2026-01-01T00:00:00Z"
BUNDLE_IMAGE = "ghcr.io/acme/shop"
PREFIX = "previews/acme/shop/pr-42"


def render_args(config: Path, out: Path, *extra: str) -> list[str]:
    return ["render", "--config", str(config), "--repo", "acme/shop", "--number", "42", "--sha", SHA,
            "--label", "preview", "--created-at", CREATED, "--out", str(out), *extra]


def rendered(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_render_with_gated_images_equals_what_serve_commits(tmp_path: Path, bare: Path, port: int,
                                                            registry: Registry) -> None:
    data = base_config(tmp_path, bare, port)
    data["repositories"][0]["images"] = [{"name": BUNDLE_IMAGE, "repository": f"{registry.host}/acme/shop"}]
    data["registries"] = [{"host": registry.host, "insecure": True}]
    config = write_config(tmp_path, data)
    layout = OciLayout(tmp_path / "oci")
    digest = layout.add_image(f"pr-42-{SHA}")
    skopeo_push(layout, f"pr-42-{SHA}", f"{registry.host}/acme/shop")
    serve = Serve(config, tmp_path, port).start()
    try:
        assert serve.post("pull_request", pr_payload(sha=SHA, created_at=CREATED)).status_code == 202
        committed = wait_for(lambda: remote_files(bare, PREFIX))
    finally:
        serve.stop()
    assert f"{registry.host}/acme/shop@{digest}".encode() in committed[f"{PREFIX}/application.yaml"]

    env = {"PREVIEWD_WEBHOOK_SECRET": SECRET}
    refused = previewd(*render_args(config, tmp_path / "refused"), env=env)
    assert refused.returncode == 2 and f"gates image(s) {BUNDLE_IMAGE}" in refused.stderr
    assert not (tmp_path / "refused").exists()  # nothing written that serve would never commit

    out = tmp_path / "pinned"
    proc = previewd(*render_args(config, out, "--image", f"{BUNDLE_IMAGE}={digest}"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert rendered(out) == committed

    loose = tmp_path / "unpinned"
    proc = previewd(*render_args(config, loose, "--unpinned"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert rendered(loose) != committed  # explicit, and visibly not what serve commits
    assert b"kustomize" not in rendered(loose)[f"{PREFIX}/application.yaml"]
