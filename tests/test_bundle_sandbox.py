"""The bundle check cannot reach the network: hostile bundles against a real loopback server.

Every field below makes a plain ``kubectl kustomize`` fetch from the server (checked first, so
the bundles really are hostile); previewd refuses each before building, and its sandbox denies
the fetch even when the static check is skipped.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.adapters import kustomize
from previewd.adapters.sandbox import run_confined
from previewd.core.lint import EXCERPT_CHARS, MESSAGE_CHARS, Finding, excerpt
from previewd.errors import PermanentError
from previewd.jobs.lint_bundle import lint_bundle
from tests.support import DEPLOYMENT_YAML

DEPLOYMENT = DEPLOYMENT_YAML.replace("IMAGE", "ghcr.io/acme/shop:1.2.3")
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - web.yaml\n"
# One hostile kustomization tail per field that Kustomize loads from a location.
HOSTILE = {
    "configMapGenerator.files": "configMapGenerator:\n  - name: c\n    files: [URL/files]\n",
    "secretGenerator.envs": "secretGenerator:\n  - name: s\n    envs: [URL/envs]\n",
    "patchesJson6902.path": ("patchesJson6902:\n  - target: {group: apps, version: v1, kind: Deployment, name: web}\n"
                             "    path: URL/json6902\n"),
    "openapi.path": "openapi:\n  path: URL/openapi\n",
    "replacements.path": "replacements:\n  - path: URL/replacements\n",
    "resources": "resources:\n  - web.yaml\n  - URL/resources\n",
}


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 standing in for an internal service; records every hit."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                body = (b"SECRET=s3cr3t\n" if "env" in self.path or "files" in self.path
                        else b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n")
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.server.shutdown()


def hostile_bundle(path: Path, field: str, url: str) -> Path:
    path.mkdir(parents=True)
    (path / "web.yaml").write_text(DEPLOYMENT)
    tail = HOSTILE[field].replace("URL", url)
    head = KUSTOMIZATION if field != "resources" else KUSTOMIZATION.split("resources:")[0]
    (path / "kustomization.yaml").write_text(head + tail)
    return path


def staged(tmp: Path, field: str, url: str) -> Path:
    """A build stage (``stage/in`` = the bundle) that skips the static check."""
    hostile_bundle(tmp / "stage" / kustomize.STAGED_BUNDLE, field, url)
    return tmp / "stage"


@pytest.mark.parametrize("field", sorted(HOSTILE))
def test_plain_kustomize_fetches_each_hostile_field(tmp_path: Path, server: LoopbackServer, field: str) -> None:
    """The control: without previewd's sandbox, Kustomize does fetch (SSRF with read-back)."""
    bundle = hostile_bundle(tmp_path / "b", field, server.url)
    subprocess.run([str(kustomize.kubectl_path()), "kustomize", str(bundle)], capture_output=True, timeout=60,
                   check=False, env={"HOME": str(tmp_path), "KUBECONFIG": "/dev/null"})
    assert server.hits


@pytest.mark.parametrize("field", sorted(HOSTILE))
def test_lint_refuses_each_hostile_field_and_fetches_nothing(
        tmp_path: Path, server: LoopbackServer, field: str) -> None:
    findings = lint_bundle(hostile_bundle(tmp_path / "b", field, server.url))
    assert [f.rule for f in findings] == ["no-remote-resources"]
    assert "a remote URL" in str(findings[0])
    assert server.hits == []


@pytest.mark.parametrize("entry", ["../../etc", "../../../../etc/passwd", "/etc/passwd",
                                   "github.com/acme/infra//deploy?ref=main", "git@github.com:acme/infra.git",
                                   "example.com/infra/base"])
def test_non_local_resources_are_refused(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "b"
    path.mkdir()
    (path / "kustomization.yaml").write_text(f"resources:\n  - {entry}\n")
    assert [f.rule for f in lint_bundle(path)] == ["no-remote-resources"]


def test_refusal_covers_unlisted_keys_and_plugin_configs(tmp_path: Path, server: LoopbackServer) -> None:
    """Every string is checked, not a list of keys: a field previewd never heard of, an inline
    generator and a transformer config file are refused alike."""
    path = tmp_path / "b"
    path.mkdir()
    (path / "web.yaml").write_text(DEPLOYMENT)
    (path / "t.yaml").write_text(f"apiVersion: builtin\nkind: PatchTransformer\nmetadata: {{name: t}}\n"
                                 f"path: {server.url}/t\n")
    (path / "kustomization.yaml").write_text(
        KUSTOMIZATION + f"someFutureField:\n  deep: [{{where: {server.url}/x}}]\ntransformers: [t.yaml]\n"
        "generators:\n  - |\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata: {name: g}\n"
        "    files: [/etc/hostname]\n")
    findings = lint_bundle(path)
    assert sorted(f.file for f in findings) == ["kustomization.yaml", "kustomization.yaml", "t.yaml"]
    assert server.hits == []


def test_local_paths_and_data_values_pass(tmp_path: Path) -> None:
    path = tmp_path / "b"
    (path / "base").mkdir(parents=True)
    (path / "base" / "web.yaml").write_text(DEPLOYMENT)
    (path / "base" / "kustomization.yaml").write_text("resources: [web.yaml]\n")
    (path / "overlay").mkdir()
    (path / "overlay" / "kustomization.yaml").write_text("resources: [../base]\n")
    (path / "app.env").write_text("A=1\n")
    (path / "kustomization.yaml").write_text(
        "resources: [overlay]\nconfigMapGenerator:\n  - name: c\n    envs: [app.env]\n"
        "    literals: [API_URL=http://backend:8080]\ncommonAnnotations: {docs: 'https://example.com'}\n")
    assert lint_bundle(path) == []


@pytest.mark.parametrize("layers", [{}, {"seccomp": False}, {"namespaces": False}],
                         ids=["both", "namespaces-only", "seccomp-only"])
@pytest.mark.parametrize("field", sorted(HOSTILE))
def test_sandbox_denies_the_network_even_without_the_static_check(
        tmp_path: Path, server: LoopbackServer, field: str, layers: dict[str, bool]) -> None:
    stage = staged(tmp_path, field, server.url)
    (stage / kustomize.WRAPPER).mkdir()
    (stage / kustomize.WRAPPER / "kustomization.yaml").write_text(kustomize._WRAPPER_TEXT)
    run = run_confined(kustomize.kubectl_path(), ["kustomize", kustomize.WRAPPER], stage, timeout=60,
                       memory=kustomize.BUILD_MEMORY, output=kustomize.BUILD_OUTPUT, **layers)
    assert run.returncode != 0 and server.hits == []
    assert set(run.layers) == {"namespaces", "seccomp"} - {k for k, v in layers.items() if not v}
    assert "socket: permission denied" in run.stderr or "network is unreachable" in run.stderr


def test_build_through_the_adapter_is_sandboxed_and_sanitised(tmp_path: Path, server: LoopbackServer) -> None:
    with pytest.raises(PermanentError) as err:
        kustomize.build(staged(tmp_path, "resources", server.url))
    assert server.hits == []
    assert len(str(err.value)) <= len("kustomize build failed: ") + kustomize.ERROR_CHARS


def test_jail_shows_only_the_tree_read_only(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    (stage / "in").mkdir(parents=True)
    (stage / "in" / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: c\n    files: [/etc/hostname]\n")
    args = ["kustomize", "--load-restrictor", "LoadRestrictionsNone", "in"]
    free = subprocess.run([str(kustomize.kubectl_path()), *args], cwd=stage, capture_output=True, check=False)
    assert free.returncode == 0  # the control: outside the jail the host file is readable
    jailed = run_confined(kustomize.kubectl_path(), args, stage, timeout=60, memory=kustomize.BUILD_MEMORY,
                          output=kustomize.BUILD_OUTPUT, seccomp=False)
    assert jailed.returncode != 0 and "/etc/hostname" in jailed.stderr
    (stage / "in" / "kustomization.yaml").write_text("configMapGenerator:\n  - name: c\n    literals: [A=1]\n")
    written = run_confined(kustomize.kubectl_path(), ["kustomize", "in", "-o", "in/out.yaml"], stage, timeout=60,
                           memory=kustomize.BUILD_MEMORY, output=kustomize.BUILD_OUTPUT)
    assert written.returncode != 0 and "read-only file system" in written.stderr
    assert not (stage / "in" / "out.yaml").exists()


def test_time_memory_and_output_are_bounded(tmp_path: Path) -> None:
    sleep = run_confined(Path("/bin/sleep"), ["30"], tmp_path, timeout=1, memory=kustomize.BUILD_MEMORY,
                         output=1024, namespaces=False)
    assert sleep.timed_out
    starved = run_confined(kustomize.kubectl_path(), ["version", "--client"], tmp_path, timeout=60,
                           memory=64 * 1024**2, output=1024)
    assert starved.returncode != 0  # the Go runtime cannot even reserve its heap
    chatty = run_confined(Path("/bin/yes"), [], tmp_path, timeout=30, memory=kustomize.BUILD_MEMORY,
                          output=4096, namespaces=False)
    assert chatty.output_exceeded and len(chatty.stdout) <= 4096


def test_no_sandbox_layer_means_no_build(tmp_path: Path, server: LoopbackServer) -> None:
    """Fail closed: with neither layer the tool is never started."""
    stage = staged(tmp_path, "resources", server.url)
    with pytest.raises(PermanentError, match="sandbox is not available"):
        run_confined(kustomize.kubectl_path(), ["kustomize", "in"], stage, timeout=60,
                     memory=kustomize.BUILD_MEMORY, output=1024, namespaces=False, seccomp=False)
    assert server.hits == []


HOSTILE_TEXT = "```\n</code><img src=x onerror=alert(1)> [click](https://evil) @everyone \x1b[31m" + "A" * 500


def test_findings_quote_the_bundle_only_as_a_short_sanitised_excerpt(tmp_path: Path) -> None:
    path = tmp_path / "b"
    path.mkdir()
    (path / "web.yaml").write_text(DEPLOYMENT.replace("ghcr.io/acme/shop:1.2.3", json.dumps(HOSTILE_TEXT + ":latest")))
    (path / "kustomization.yaml").write_text(KUSTOMIZATION)
    (finding,) = lint_bundle(path)
    text = str(finding)
    assert finding.rule == "pinned-images"
    assert not set(text) & set("`<>()\n\x1b") and "[click]" not in text
    assert len(text) <= 3 * EXCERPT_CHARS + MESSAGE_CHARS + 10


@given(st.text())
def test_excerpt_is_inert_and_bounded(text: str) -> None:
    out = excerpt(text)
    assert len(out) <= EXCERPT_CHARS and not set(out) & set("`<>[]()*|!\\&\"\n\r\t")
    assert all(c.isascii() and c.isprintable() for c in out)
    assert len(str(Finding(text, text, text, text))) <= 3 * EXCERPT_CHARS + MESSAGE_CHARS + 10


def test_hostile_kustomization_shapes_are_findings_not_crashes(tmp_path: Path) -> None:
    long_name = tmp_path / "long"
    long_name.mkdir()
    (long_name / "kustomization.yaml").write_text("resources:\n  - " + "x." * 3000 + "com/a\n")
    assert [f.rule for f in lint_bundle(long_name)] == ["no-remote-resources"]
    huge = tmp_path / "huge"
    huge.mkdir()
    (huge / "kustomization.yaml").write_text("resources: []\n#" + "x" * kustomize.MAX_KUSTOMIZATION_BYTES + "\n")
    (finding,) = lint_bundle(huge)
    assert "cannot be checked: larger than" in finding.message
