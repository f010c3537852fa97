"""Every user mistake on the command line is one clear line on stderr and exit 2, never a
traceback (issue 9 item 14): each case runs the real CLI in a subprocess."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import ROOT, SECRET, base_config, free_port, previewd, write_config

SHA = "a" * 40
DIGEST = "sha256:" + "b" * 64
GATED = "ghcr.io/acme/shop"
RELEASE_EXAMPLE = ROOT / "examples" / "state-repo" / "workspaces" / "acme" / "projects" / "shop" / "tenants" / "team-a"


def configs(tmp: Path) -> dict[str, Path]:
    """A valid config, one whose repository gates an image, and files that are not configs."""
    bare = tmp / "gitops.git"
    plain = write_config(tmp, base_config(tmp, bare))
    gated_data = base_config(tmp, bare)
    gated_data["repositories"][0]["images"] = [{"name": GATED}]
    (tmp / "gated").mkdir()
    gated = write_config(tmp / "gated", gated_data)
    (tmp / "binary.yaml").write_bytes(b"\xff\xfe\x00 not text")
    (tmp / "broken.yaml").write_text("gitops: [\n")
    no_secret = base_config(tmp, bare)
    del no_secret["github"]
    (tmp / "nosecret").mkdir()
    write_config(tmp / "nosecret", no_secret)
    (tmp / "a-file").write_text("x")
    env = tmp / "env"  # a valid app-env + release pair
    env.mkdir()
    shutil.copy(RELEASE_EXAMPLE / "app-env.yaml", env)
    shutil.copy(RELEASE_EXAMPLE / "release.yaml", env)
    return {"plain": plain, "gated": gated}


def render(config: str, *extra: str, sha: str = SHA, out: str = "{tmp}/out") -> list[str]:
    return ["render", "--config", config, "--repo", "acme/shop", "--number", "42", "--sha", sha,
            "--label", "preview", "--out", out, *extra]


DEAD = f"http://127.0.0.1:{free_port()}"  # nothing listens there
# (arguments with {tmp}/{plain}/{gated} placeholders, a fragment the one line must contain)
CASES: list[tuple[list[str], str]] = [
    (render("{plain}", sha="abc"), "'abc' is not a commit id"),
    (["render", "--config", "{plain}", "--repo", "acme/shop", "--number", "0", "--sha", SHA,
      "--out", "{tmp}/out"], "--number"),
    (["render", "--config", "{plain}", "--repo", "acmeshop", "--number", "1", "--sha", SHA,
      "--out", "{tmp}/out"], "'acmeshop' is not owner/name"),
    (["render", "--config", "{plain}", "--repo", "acme/other", "--number", "1", "--sha", SHA,
      "--out", "{tmp}/out"], "repository acme/other is not in"),
    (render("{gated}"), f"gates image(s) {GATED}"),
    (render("{gated}", "--image", "foo"), "'foo' is not NAME=sha256:"),
    (render("{gated}", "--image", f"ghcr.io/acme/else={DIGEST}"), "not a gated image of acme/shop"),
    (render("{gated}", "--image", f"{GATED}=sha256:1234"), "is not NAME=sha256:"),
    (render("{gated}", "--unpinned", "--image", f"{GATED}={DIGEST}"), "exclude each other"),
    (render("{plain}", out="{tmp}/a-file/out"), "a-file/out"),
    (render("{tmp}/missing.yaml"), "cannot read"),
    (["simulate", "--repo", "acme/shop", "--secret", "x", "--url", DEAD], "cannot reach previewd"),
    (["simulate", "--repo", "acmeshop", "--secret", "x"], "'acmeshop' is not owner/name"),
    (["simulate", "--repo", "acme/shop", "--secret", "x", "--url", "localhost"], "--url 'localhost'"),
    (["simulate", "--repo", "acme/shop", "--secret", "x", "--sha", "zz"], "'zz' is not a commit id"),
    (["simulate", "--repo", "acme/shop"], "no webhook secret"),
    (["simulate", "--repo", "acme/shop", "--secret-file", "{tmp}/none"], "{tmp}/none does not exist"),
    (["check-config", "{tmp}/missing.yaml"], "No such file or directory"),
    (["check-config", "{tmp}"], "is a directory"),
    (["check-config", "{tmp}/binary.yaml"], "not UTF-8 text"),
    (["check-config", "{tmp}/broken.yaml"], "not valid YAML"),
    (["check-config", "{tmp}/nosecret/previewd.yaml"], "github.webhook_secret: required"),
    (["serve", "--config", "{plain}", "--log-level", "loud"], "--log-level"),
    (["serve", "--config", "{plain}", "--listen", "nowhere"], "--listen: expected host:port"),
    (["serve", "--config", "{tmp}/missing.yaml"], "cannot read"),
    (["serve", "--config", "{tmp}/nosecret/previewd.yaml"], "github.webhook_secret: required"),
    (["bootstrap", "--config", "{plain}", "--out", "{tmp}/a-file/install"], "a-file/install"),
    (["bootstrap", "--config", "{tmp}/broken.yaml", "--out", "{tmp}/install"], "not valid YAML"),
    (["release", "check", "{tmp}/missing"], "does not exist"),
    (["release", "render", "{tmp}"], "cannot read"),
    (["release", "check", "{tmp}", "--config", "{plain}"], "has no releases: section"),
    (["release", "pending", "--config", "{plain}", "--url", DEAD], "cannot reach previewd"),
    (["release", "promote", "ws/p/t", "--config", "{plain}", "--tag", "1", "--digest", DIGEST],
     "exactly one of --tag or --digest"),
    (["lint", "{tmp}/missing"], "does not exist"),
    (["lint", "{tmp}/a-file"], "is a file"),
    (["release", "render", "{tmp}/env", "--out", "{tmp}/a-file/out.yaml"], "a-file/out.yaml"),
    (["render", "--bogus"], "No such option '--bogus'"),
    (["no-such-command"], "No such command"),
]



@pytest.mark.parametrize("args, expected", CASES, ids=[" ".join(a[:2]) + f" [{i}]" for i, (a, _) in enumerate(CASES)])
def test_user_error_is_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    paths = configs(tmp_path)
    fill = {"tmp": str(tmp_path), "plain": str(paths["plain"]), "gated": str(paths["gated"])}
    proc = previewd(*[a.format(**fill) for a in args], cwd=tmp_path,
                    env={"PREVIEWD_WEBHOOK_SECRET": SECRET} if args[0] != "simulate" else {})
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected.format(**fill) in lines[0]
    assert lines[0].startswith("previewd")
    assert proc.returncode == 2, proc.stderr
