"""``previewd render`` for a canary repository: routes for the ``--changed`` services only;
``--changed`` where it means nothing is a one-line usage error."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.canary_support import with_canary
from tests.support import SECRET, base_config, previewd, write_config

SHA = "5" * 40


def render(tmp: Path, services: bool, *extra: str) -> tuple[int, str, Path]:
    data = with_canary(base_config(tmp, tmp / "gitops.git"), services=services)
    config = write_config(tmp, data)
    out = tmp / "out"
    proc = previewd("render", "--config", str(config), "--repo", "acme/shop", "--number", "42", "--sha", SHA,
                    "--label", "preview", "--out", str(out), *extra, env={"PREVIEWD_WEBHOOK_SECRET": SECRET})
    return proc.returncode, proc.stderr, out / "previews/acme/shop/pr-42"


def test_render_writes_routes_for_the_changed_services(tmp_path: Path) -> None:
    code, err, directory = render(tmp_path, True, "--changed", "proto/store.proto")
    assert code == 0, err
    kinds = [d["kind"] for d in yaml.safe_load_all((directory / "routes/routes.yaml").read_text())]
    assert kinds == ["GRPCRoute"]
    assert (directory / "router-application.yaml").is_file()


def test_changed_without_services_is_a_usage_error(tmp_path: Path) -> None:
    code, err, directory = render(tmp_path, False, "--changed", "x.py")
    assert code == 2 and len(err.strip().splitlines()) <= 3 and "canary.services" in err
    assert not directory.exists()
