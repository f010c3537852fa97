"""CLI commands that do not need a server: check-config, bootstrap, simulate against serve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import schemas
from tests.support import SECRET, Serve, base_config, previewd, remote_log, wait_for, write_config


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "previewd.cli.main", *args], capture_output=True,
                          text=True, env={"PREVIEWD_WEBHOOK_SECRET": SECRET, "PATH": "/usr/bin:/bin",
                                          **(env or {})})


def test_check_config_ok_and_bad(tmp_path: Path, bare: Path) -> None:
    good = write_config(tmp_path, base_config(tmp_path, bare))
    assert run("check-config", str(good)).returncode == 0
    data = base_config(tmp_path, bare)
    data["gitops"]["brnach"] = "main"
    bad = write_config(tmp_path, data)
    proc = run("check-config", str(bad))
    assert proc.returncode == 2
    assert "gitops.brnach: unknown key" in proc.stderr


def test_check_config_rejects_what_serve_rejects_with_the_same_words(tmp_path: Path, bare: Path) -> None:
    data = base_config(tmp_path, bare)
    del data["github"]
    data["repositories"][0]["trigger"] = {"drafts": "yes"}
    path = write_config(tmp_path, data)
    checked, served = run("check-config", str(path)), run("serve", "--config", str(path))
    assert checked.returncode == served.returncode == 2
    reason = checked.stderr.removeprefix("previewd check-config: ")
    assert reason == served.stderr.removeprefix("previewd serve: ")
    assert reason.startswith(f"invalid configuration ({path}):")  # the file, not "(config)"
    assert "github.webhook_secret: required" in reason
    assert "repositories.0.trigger.drafts: Input should be a valid boolean" in reason


def test_bad_listen_is_a_config_error(tmp_path: Path, bare: Path) -> None:
    config = write_config(tmp_path, base_config(tmp_path, bare))
    proc = run("serve", "--config", str(config), "--listen", "nowhere")
    assert proc.returncode == 2
    assert "--listen: expected host:port" in proc.stderr


def test_bootstrap_writes_schema_valid_manifests(tmp_path: Path, bare: Path) -> None:
    config = write_config(tmp_path, base_config(tmp_path, bare))
    out = tmp_path / "install"
    proc = run("bootstrap", "--config", str(config), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    kinds = sorted(d["kind"] for f in out.glob("*.yaml") for d in schemas.validate_file(f))
    assert {"AppProject", "Application", "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding"} <= set(kinds)


def test_simulate_sends_a_signed_event(tmp_path: Path, bare: Path, port: int) -> None:
    config = write_config(tmp_path, base_config(tmp_path, bare, port))
    serve = Serve(config, tmp_path, port).start()
    try:
        proc = run("simulate", "--url", serve.url, "--repo", "acme/shop", "--number", "7",
                   "--secret", SECRET)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("202 Accepted"), proc.stdout + proc.stderr
        assert "(signed with the secret from --secret)" in proc.stdout
        wait_for(lambda: remote_log(bare))
        assert remote_log(bare)[0].startswith("preview(acme/shop#7): create at ")
    finally:
        serve.stop()


def test_simulate_fails_on_any_non_2xx_and_names_its_secret(tmp_path: Path, bare: Path,
                                                            port: int) -> None:
    """The quick tour's second terminal: no secret exported, a stale .previewd/webhook-secret
    from an earlier run on embedded defaults. simulate must not report success on a 401."""
    config = write_config(tmp_path, base_config(tmp_path, bare, port))
    serve = Serve(config, tmp_path, port).start()
    elsewhere = tmp_path / "terminal-2"
    (elsewhere / ".previewd").mkdir(parents=True)
    (elsewhere / ".previewd" / "webhook-secret").write_text("stale-secret\n")
    try:
        stale = previewd("simulate", "--url", serve.url, "--repo", "acme/shop", cwd=elsewhere)
        assert stale.returncode == 1
        assert stale.stderr.count("\n") == 1 and "Traceback" not in stale.stderr
        assert "previewd answered 401 Unauthorized" in stale.stderr
        assert "secret from .previewd/webhook-secret" in stale.stderr
        assert "github.webhook_secret" in stale.stderr

        from_env = previewd("simulate", "--url", serve.url, "--repo", "acme/shop", cwd=elsewhere,
                            env={"PREVIEWD_WEBHOOK_SECRET": SECRET})
        assert from_env.returncode == 0, from_env.stderr
        assert "(signed with the secret from $PREVIEWD_WEBHOOK_SECRET)" in from_env.stdout

        missing = previewd("simulate", "--url", serve.url + "/no-such-path", "--repo", "acme/shop",
                           "--secret", SECRET, cwd=elsewhere)
        assert missing.returncode == 1
        assert "previewd answered 404 Not Found" in missing.stderr
    finally:
        serve.stop()


def test_embedded_defaults_serve_without_a_config(tmp_path: Path, port: int) -> None:
    """`previewd serve` with no file: SQLite + a local bare repo under ./.previewd/."""
    proc = subprocess.Popen([sys.executable, "-m", "previewd.cli.main", "serve", "--listen",
                             f"127.0.0.1:{port}"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        import httpx

        wait_for(lambda: _healthy(httpx, port))
        assert (tmp_path / ".previewd" / "gitops.git" / "HEAD").exists()
        assert (tmp_path / ".previewd" / "previewd.db").exists()
        assert len((tmp_path / ".previewd" / "webhook-secret").read_text().strip()) == 64
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "generated webhook secret" in out


def _healthy(httpx: object, port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        return bool(httpx.get(url, timeout=1).status_code == 200)  # type: ignore[attr-defined]
    except Exception:
        return False


@pytest.mark.parametrize("name", ["previewd.yaml", "quickstart.yaml"])
def test_example_configs_in_docs_are_valid(name: str) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / name
    data = yaml.safe_load(example.read_text())
    assert data["repositories"]
    proc = run("check-config", str(example), env={"GITHUB_TOKEN": "x", "PREVIEWD_ARGOCD_TOKEN": "x",
                                                   "REG_USER": "x", "REG_PASSWORD": "x",
                                                   "REG_HOOK_TOKEN": "x", "PREVIEWD_RELEASE_TOKEN": "x"})
    assert proc.returncode == 0, proc.stderr
