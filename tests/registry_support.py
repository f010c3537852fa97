"""A real OCI registry for tests: Debian's ``docker-registry`` on loopback, plus images.

Reusable by any test that needs a registry (preview gating, release controller)::

    from tests.registry_support import Registry, OciLayout, skopeo_push

    with Registry(tmp_path / "registry", notify_url=..., notify_token=...) as reg:
        layout = OciLayout(tmp_path / "oci")
        digest = layout.add_image("pr-42-<sha>")            # or layout.add_index(tag, platforms)
        skopeo_push(layout, "pr-42-<sha>", f"{reg.host}/acme/shop")
        assert reg.digest("acme/shop", "pr-42-<sha>") == digest

Images are built in Python (blobs, config, manifest, index.json) so no Docker daemon is
needed; ``skopeo copy`` pushes them. ``reg.stop()`` / ``reg.start()`` restart the registry
on the same port and storage ("registry down" scenarios).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from tests.support import free_port

REGISTRY_BIN = "/usr/bin/docker-registry"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ", ".join([
    OCI_INDEX, OCI_MANIFEST,
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def have_registry() -> bool:
    """True when both the registry binary and skopeo are installed."""
    return Path(REGISTRY_BIN).exists() and shutil.which("skopeo") is not None


class Registry:
    """One ``docker-registry`` process with filesystem storage, deletes enabled."""

    def __init__(self, root: Path, notify_url: str | None = None, notify_token: str | None = None,
                 port: int | None = None, auth: dict[str, Any] | None = None,
                 delete: bool = True) -> None:
        if not have_registry():
            # make test installs both; a silent skip would hide the missing real registry.
            raise RuntimeError("docker-registry and skopeo are required: run `make system-deps`")
        self.root = root
        self.auth, self.delete = auth, delete
        self.port = port or free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.notify_url, self.notify_token = notify_url, notify_token
        self.proc: subprocess.Popen[bytes] | None = None
        self.config_path = root / "config.yml"
        self.log = root / "registry.log"

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "data")},
                "delete": {"enabled": self.delete},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": self.host, "secret": "previewd-tests"},
        }
        if self.auth:
            config["auth"] = self.auth
        if self.notify_url:
            endpoint: dict[str, Any] = {
                "name": "previewd",
                "url": self.notify_url,
                "timeout": "2s",
                "threshold": 3,
                "backoff": "200ms",
                "ignore": {"actions": ["pull", "mount", "delete"]},
            }
            if self.notify_token:
                endpoint["headers"] = {"Authorization": [f"Bearer {self.notify_token}"]}
            config["notifications"] = {"endpoints": [endpoint]}
        return config

    def start(self) -> Registry:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        out = self.log.open("ab")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(self.config_path)],
                                     stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/v2/", timeout=1).status_code in (200, 401):
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- direct reads (independent of previewd's client) --------------------------------

    def digest(self, repository: str, reference: str) -> str | None:
        """The ``Docker-Content-Digest`` the registry reports for a tag, None if unknown."""
        r = httpx.head(f"{self.url}/v2/{repository}/manifests/{reference}",
                       headers={"Accept": ACCEPT}, timeout=5)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.headers["docker-content-digest"]

    def tags(self, repository: str) -> list[str]:
        r = httpx.get(f"{self.url}/v2/{repository}/tags/list", timeout=5)
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return sorted(r.json().get("tags") or [])


# A bcrypt (cost 4) hash of "s3cret-pass" for user "ci", precomputed so tests need no bcrypt.
HTPASSWD_USER, HTPASSWD_PASSWORD = "ci", "s3cret-pass"
HTPASSWD_LINE = "ci:$2b$04$previewdtestsaltsalt1ulQlW8KS2q9uHaEeiM7yk7f7sswQgenG"


def htpasswd_auth(root: Path) -> dict[str, Any]:
    """The registry ``auth`` section for Basic auth as ``ci`` / ``s3cret-pass``."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "htpasswd"
    path.write_text(HTPASSWD_LINE + "\n")
    return {"htpasswd": {"realm": "previewd-tests", "path": str(path)}}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(content: bytes) -> bytes:
    """A gzip'd tar with one file, byte-stable for the same content."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


class OciLayout:
    """An OCI image layout directory built by hand (what ``skopeo copy oci:...`` reads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        if not (path / "index.json").exists():
            self._write_index([])

    def blob(self, data: bytes) -> str:
        digest = _digest(data)
        (self.path / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
        return digest

    def _descriptor(self, media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
        return {"mediaType": media_type, "digest": self.blob(data), "size": len(data), **extra}

    def _manifest(self, content: bytes, os_name: str, arch: str) -> bytes:
        layer = _layer(content)
        diff_id = _digest(gzip.decompress(layer))
        config = json.dumps({
            "architecture": arch, "os": os_name,
            "config": {"Cmd": ["/hello"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }, sort_keys=True).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self._descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [self._descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
        }
        return json.dumps(manifest, sort_keys=True).encode()

    def add_image(self, tag: str, content: bytes | None = None, arch: str = "amd64") -> str:
        """A single-platform image tagged ``tag``; returns its manifest digest."""
        data = self._manifest(content or f"image {tag}".encode(), "linux", arch)
        return self._tag(self._descriptor(OCI_MANIFEST, data), tag)

    def add_index(self, tag: str, platforms: tuple[str, ...] = ("amd64", "arm64"),
                  content: bytes | None = None) -> str:
        """A multi-arch image index tagged ``tag``; returns the index digest."""
        children = []
        for arch in platforms:
            data = self._manifest((content or f"index {tag}".encode()) + arch.encode(), "linux", arch)
            children.append(self._descriptor(OCI_MANIFEST, data,
                                             platform={"architecture": arch, "os": "linux"}))
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children},
                           sort_keys=True).encode()
        return self._tag(self._descriptor(OCI_INDEX, index), tag)

    def _tag(self, descriptor: dict[str, Any], tag: str) -> str:
        entries = [m for m in self._read_index()
                   if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
        entries.append({**descriptor, "annotations": {"org.opencontainers.image.ref.name": tag}})
        self._write_index(entries)
        return str(descriptor["digest"])

    def _read_index(self) -> list[dict[str, Any]]:
        data: dict[str, Any] = json.loads((self.path / "index.json").read_text())
        return list(data.get("manifests", []))

    def _write_index(self, manifests: list[dict[str, Any]]) -> None:
        (self.path / "index.json").write_text(json.dumps(
            {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}))


def skopeo_push(layout: OciLayout, tag: str, destination: str, all_platforms: bool = True,
                creds: str | None = None) -> None:
    """``skopeo copy oci:<layout>:<tag> docker://<destination>:<tag>`` over plain http."""
    argv = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"]
    if all_platforms:
        argv.append("--all")
    if creds:
        argv.append(f"--dest-creds={creds}")
    argv += [f"oci:{layout.path}:{tag}", f"docker://{destination}:{tag}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo copy failed: {proc.stderr.strip()}")
