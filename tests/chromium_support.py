"""Debian's headless Chromium with an unpacked extension, driven over the DevTools protocol
(CDP) through a websocket, and a loopback HTTP server that records the headers it receives."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.support import wait_for

CHROMIUM = "chromium"  # Debian's package (scripts/install-system-deps.sh)
START_TIMEOUT = 60.0  # seconds for Chromium to open its DevTools port on a busy machine
# Chromium must not reach out to Google's services from a closed network (and must not try).
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0")


def extension_id(path: Path) -> str:
    """The id Chromium gives an unpacked extension without a key: from its absolute path."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


class Browser:
    """One Chromium process; :meth:`call` sends a CDP command and returns its result."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        self._ws.send(json.dumps({"id": number, "method": method, "params": params,
                                  **({"sessionId": session} if session else {})}))
        while True:  # events arrive between answers; this client needs only the answers
            message = json.loads(self._ws.recv(timeout=START_TIMEOUT))
            if message.get("id") == number:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return dict(message["result"])

    def open(self, url: str) -> str:
        """A new tab at ``url``; the session to talk to it."""
        target = self.call("Target.createTarget", url=url)["targetId"]
        return str(self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"])

    def evaluate(self, session: str, expression: str) -> Any:
        """``expression`` in the tab (promises awaited); its JSON value."""
        result = self.call("Runtime.evaluate", session, expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


@contextmanager
def chromium(extension: Path, profile: Path) -> Iterator[Browser]:
    """Headless Chromium with ``extension`` loaded unpacked and a fresh profile."""
    binary = shutil.which(CHROMIUM)
    assert binary, "chromium is not installed: run scripts/install-system-deps.sh"
    where = str(extension.resolve())
    log = (profile.parent / "chromium.log").open("w")
    process = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", f"--load-extension={where}",
                                f"--disable-extensions-except={where}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=log)
    try:
        port_file = profile / "DevToolsActivePort"
        wait_for(lambda: port_file.exists() and len(port_file.read_text().split()) >= 2, timeout=START_TIMEOUT)
        port, path = port_file.read_text().split()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=START_TIMEOUT) as ws:
            yield Browser(ws)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class HeaderRecorder:
    """A loopback HTTP server that records (path, the header's value) of each GET it answers."""

    def __init__(self, header: str) -> None:
        self.seen: list[tuple[str, str | None]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.seen.append((self.path, self.headers.get(header)))
                body = b"<!doctype html><title>ok</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HeaderRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def header_for(self, path: str) -> str | None:
        """The header the request for ``path`` carried (waits for the request)."""
        wait_for(lambda: any(p == path for p, _ in self.seen), timeout=START_TIMEOUT)
        return next(v for p, v in self.seen if p == path)

