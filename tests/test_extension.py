"""``previewd extension``: its one-line errors, and the extension it writes, loaded unpacked in
headless Chromium, adding the header to requests for its domain only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from previewd.extension import WRITTEN, ExtensionError, check_domain, write_extension
from tests.chromium_support import START_TIMEOUT, HeaderRecorder, chromium, extension_id
from tests.support import previewd, wait_for

POPUP_READY = "typeof setPullRequest === 'function' && document.getElementById('status').textContent !== ''"


@pytest.mark.parametrize("domain", [
    "https://api.example.com", "api.example.com:443", "api.example.com/x", "*.example.com", "a..b",
    "-api.example.com", "api_x.example.com", "x" * 64 + ".example.com", "api.example.com.", "",
    "api.example.com\n", "ápi.example.com", "api example.com",
])
def test_a_domain_is_a_host_name(tmp_path: Path, domain: str) -> None:
    with pytest.raises(ExtensionError, match="is not a host name"):
        write_extension(domain, tmp_path / "ext")
    assert not (tmp_path / "ext").exists()


def test_a_bad_domain_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = previewd("extension", "--domain", "https://api.example.com/", "--out", str(tmp_path / "ext"))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "is not a host name" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "ext").exists()


@pytest.mark.parametrize(("domain", "expected"), [
    ("API.Dev.Example.com", "api.dev.example.com"), ("localhost", "localhost"), ("127.0.0.1", "127.0.0.1"),
    ("a-b.c0", "a-b.c0"), ("x" * 63 + ".com", "x" * 63 + ".com"),
])
def test_good_domains(domain: str, expected: str) -> None:
    assert check_domain(domain) == expected


def test_output_directory_mistakes_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    for out, message in [(tmp_path / "file", "is not a directory"), (tmp_path / "busy", "notes.txt"),
                         (tmp_path / "file" / "sub", "Not a directory")]:
        run = previewd("extension", "--domain", "api.example.com", "--out", str(out))
        assert run.returncode == 2 and run.stderr.count("\n") == 1 and message in run.stderr, run.stderr
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    bad_header = previewd("extension", "--domain", "api.example.com", "--out", str(tmp_path / "h"),
                          "--header", "X Canary")
    assert bad_header.returncode == 2 and "not an HTTP header name" in bad_header.stderr


def test_writes_a_manifest_v3_extension_and_rewrites_its_own(tmp_path: Path) -> None:
    out = tmp_path / "new" / "ext"
    for _ in range(2):  # a second run over its own output is fine
        run = previewd("extension", "--domain", "API.dev.Example.com", "--out", str(out))
        assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(WRITTEN)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["manifest_version"] == 3
    assert manifest["permissions"] == ["declarativeNetRequest"]
    assert manifest["host_permissions"] == ["*://api.dev.example.com/*"]
    assert manifest["action"]["default_popup"] == "popup.html"
    assert '"domain": "api.dev.example.com"' in (out / "config.js").read_text()


def test_chromium_sends_the_header_the_popup_sets(tmp_path: Path) -> None:
    out = tmp_path / "ext"
    assert previewd("extension", "--domain", "localhost", "--out", str(out)).returncode == 0
    with HeaderRecorder("X-Canary") as server, chromium(out, tmp_path / "profile") as browser:
        popup = browser.open(f"chrome-extension://{extension_id(out)}/popup.html")
        status = "document.getElementById('status').textContent"
        wait_for(lambda: browser.evaluate(popup, POPUP_READY), timeout=START_TIMEOUT)  # loaded, rule read
        assert browser.evaluate(popup, status) == "off"

        def fill(number: str) -> str:
            """Type ``number`` in the popup and press Set, as a reviewer does; the status line."""
            browser.evaluate(popup, f"document.getElementById('status').textContent = '';"
                                    f"document.getElementById('number').value = {json.dumps(number)};"
                                    "document.getElementById('set').click()")
            return str(wait_for(lambda: browser.evaluate(popup, status), timeout=START_TIMEOUT))

        def visit(host: str, path: str) -> str | None:
            browser.open(f"http://{host}:{server.port}{path}")
            return server.header_for(path)

        assert visit("localhost", "/before") is None
        assert fill("42") == "X-Canary: 42 on localhost"
        assert visit("localhost", "/set") == "42"
        assert visit("127.0.0.1", "/other-host") is None  # only the extension's domain gets it,
        assert visit("sub.localhost", "/subdomain") is None  # not its subdomains either
        assert browser.evaluate(popup, f"fetch('http://localhost:{server.port}/fetch').then(r => r.status)") == 200
        assert server.header_for("/fetch") == "42"  # the popup's own fetch is a request too
        assert "digits" in fill("42; drop")  # refused in the popup: the rule keeps 42
        assert browser.evaluate(popup, "currentPullRequest()") == "42"
        assert "digits" in fill("12345678901")
        assert fill("7") == "X-Canary: 7 on localhost"
        assert visit("localhost", "/changed") == "7"
        browser.evaluate(popup, "clearPullRequest()")
        assert visit("localhost", "/cleared") is None
