"""Test doubles shared by every test module. Each is named ``Fake...`` and says what it fakes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

STALL_INTERVAL = 0.2  # seconds between the bytes of a stalled tarball (FakeGitHub.stall_tarball)

# -- registry ------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeTokenServer:
    """A Docker registry token server (the part of registry auth the real registry lacks).

    Issues ES256 JWTs with an ``x5c`` chain that a real ``docker-registry`` configured with
    ``auth.token`` (see ``registry_auth``) verifies. Basic credentials are checked when set;
    ``requests`` records every (scope, authorised user) asked for.
    """

    def __init__(self, root: Path, username: str | None = None, password: str | None = None,
                 service: str = "previewd-test-registry") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.username, self.password, self.service = username, password, service
        self.issuer = "previewd-fake-token-server"
        self.requests: list[tuple[str, str | None]] = []
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "previewd fake token server")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(self._key, hashes.SHA256()))
        self._cert_der = cert.public_bytes(serialization.Encoding.DER)
        root.mkdir(parents=True, exist_ok=True)
        self.cert_path = root / "token-cert.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.realm = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def registry_auth(self) -> dict[str, Any]:
        """The ``auth`` section for a ``tests.registry_support.Registry`` using this server."""
        return {"token": {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                          "rootcertbundle": str(self.cert_path)}}

    def token(self, scope: str, subject: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        access = []
        if scope.startswith("repository:"):
            _kind, name, actions = scope.split(":", 2)
            access.append({"type": "repository", "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self._cert_der).decode()]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "."
                         + _b64url(json.dumps(claims).encode()))
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                scope = query.get("scope", [""])[0]
                user = None
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if (user, password) != (server.username, server.password):
                        return self._reply(401, {"error": "bad credentials"})
                elif server.username is not None:
                    return self._reply(401, {"error": "credentials required"})
                server.requests.append((scope, user))
                self._reply(200, {"token": server.token(scope, user or "anonymous"),
                                  "expires_in": 300})

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeTokenServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeRegistryTransport:
    """An ``httpx`` transport answering from a script, for what a real registry won't do on
    demand (429 with Retry-After, 503 storms, a token server that refuses).

    ``script`` maps "METHOD /path" to a list of ``(status, headers)`` or
    ``(status, headers, body)`` answers served in order (the last repeats); ``seen`` records
    every request as "METHOD /path?query".
    """

    def __init__(self, script: dict[str, list[Any]]) -> None:
        import httpx

        self.script = {k: list(v) for k, v in script.items()}
        self.seen: list[str] = []
        self.hosts: list[str] = []  # the host of every request
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: Any) -> Any:
        import httpx

        url = request.url
        self.seen.append(f"{request.method} {url.raw_path.decode()}")
        self.hosts.append(url.host)
        key = f"{request.method} {url.path}"
        answers = self.script.get(key)
        if not answers:
            return httpx.Response(404, json={"errors": [{"code": "NOT_FOUND"}]})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        status, headers, body = (*answer, b"")[:3]
        return httpx.Response(status, headers=headers, content=body)


class FakeManifestReader:
    """Stands in for ``RegistryClient.head_manifest`` in pure gating tests: a dict of
    (host, repository, tag) -> ManifestInfo; ``error`` is raised instead when set;
    ``lag[key] = n`` answers 404 n more times first (a tag linked after its notification)."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str, str], Any] = {}
        self.lag: dict[tuple[str, str, str], int] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.error: Exception | None = None

    def head_manifest(self, host: str, repository: str, reference: str) -> Any:
        key = (host, repository, reference)
        self.calls.append(key)
        if self.error is not None:
            raise self.error
        if self.lag.get(key, 0) > 0:
            self.lag[key] -= 1
            return None
        return self.manifests.get(key)


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeSleep:
    """A ``sleep`` that records each wait and moves ``clock`` on by it instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.now += seconds


# -- GitHub --------------------------------------------------------------------------------


class FakeGitHub:
    """A stateful fake of the GitHub REST API, on loopback, for scenario tests (a test double).

    Serves the endpoints previewd uses with real-looking bodies (PR objects come from the real
    webhook fixtures), honours ``If-None-Match`` (a 304 is not counted against the rate limit,
    as on GitHub), paginates with ``Link`` headers, sends ``X-RateLimit-*`` headers and answers
    permissions per user and holds GHCR container package versions (``add_container_version``)
    for users and organisations (``organizations``), each reachable only under its own owner kind.
    Failures are injected with ``fail_next`` and ``outage``.
    """

    def __init__(self, token: str = "fake-token", rate_limit: int = 5000) -> None:
        self.token = token
        self.lock = threading.RLock()
        self.repos: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.counted = 0  # requests that count against the rate limit (everything but 304)
        self.rate_limit = rate_limit
        self.remaining = rate_limit
        self.reset = int(time.time()) + 3600
        self.outage = False  # every API request answers 503
        self.fail_next: list[tuple[str, int, dict[str, str]]] = []  # (path substring, status, headers)
        self.stalled: dict[tuple[str, str], threading.Event] = {}  # (repo, sha) -> released when set
        self.unlisted: set[int] = set()  # PR numbers the list leaves out (a lagging, partial list)
        self.fail_message = "injected failure"  # the message of injected failures
        self.organizations: set[str] = set()  # logins of organisations; anyone else is a user
        self.packages: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (owner, package) -> versions
        self._ids = 1000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- state helpers used by tests ---------------------------------------------------

    def repo(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self.repos.setdefault(name.lower(), {
                "full_name": name, "pulls": {}, "comments": {}, "deployments": [], "deployment_statuses": {},
                "statuses": {}, "permissions": {}, "reactions": {}, "tarballs": {}, "files": {}})

    def add_pull(self, repo: str, number: int, sha: str, labels: tuple[str, ...] = ("preview",),
                 updated_at: str = "2026-01-01T00:00:00Z", state: str = "open", **fields: Any) -> dict[str, Any]:
        from tests.support import pr_payload

        pr = pr_payload(repo=repo, number=number, sha=sha, labels=labels, updated_at=updated_at,
                        state=state, **fields)["pull_request"]
        with self.lock:
            self.repo(repo)["pulls"][number] = pr
        return dict(pr)

    def update_pull(self, repo: str, number: int, **fields: Any) -> None:
        with self.lock:
            pr = self.repo(repo)["pulls"][number]
            if "sha" in fields:
                pr["head"]["sha"] = fields.pop("sha")
            if "labels" in fields:
                pr["labels"] = [{"name": label} for label in fields.pop("labels")]
            pr.update(fields)

    def set_pull_files(self, repo: str, number: int, files: list[str]) -> None:
        """The files ``GET .../pulls/{number}/files`` lists (paginated, as GitHub does)."""
        with self.lock:
            self.repo(repo)["files"][number] = [
                {"sha": "0" * 40, "filename": f, "status": "modified", "additions": 1, "deletions": 0,
                 "changes": 1} for f in files]

    def close_pull(self, repo: str, number: int, updated_at: str, merged: bool = False) -> None:
        self.update_pull(repo, number, state="closed", merged=merged, updated_at=updated_at,
                         closed_at=updated_at)

    def add_container_version(self, owner: str, package: str, digest: str, tags: tuple[str, ...]) -> int:
        """A GHCR package version as the Packages API lists it; returns its id."""
        with self.lock:
            version_id = self._next_id()
            kind = "orgs" if owner in self.organizations else "users"
            self.packages.setdefault((owner, package), []).insert(0, {
                "id": version_id, "name": digest,
                "url": f"{self.url}/{kind}/{owner}/packages/container/{package}/versions/{version_id}",
                "package_html_url": f"https://github.com/{owner}/packages/container/package/{package}",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                "metadata": {"package_type": "container", "container": {"tags": list(tags)}}})
        return version_id

    def container_tags(self, owner: str, package: str) -> dict[int, list[str]]:
        """The versions left, by id, with their tags."""
        with self.lock:
            return {v["id"]: list(v["metadata"]["container"]["tags"])
                    for v in self.packages.get((owner, package), [])}

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        with self.lock:
            self.repo(repo)["permissions"][login] = permission

    def add_tarball(self, repo: str, sha: str, files: dict[str, str]) -> None:
        """The repository at ``sha``, served as GitHub does: one top directory in a .tar.gz."""
        import io
        import tarfile

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            top = f"{repo.replace('/', '-')}-{sha[:7]}"
            for name, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        with self.lock:
            self.repo(repo)["tarballs"][sha] = buf.getvalue()

    def stall_tarball(self, repo: str, sha: str) -> threading.Event:
        """Serve that tarball one byte every ``STALL_INTERVAL`` seconds until the returned event
        is set (a codeload host that trickles: no read timeout ever fires)."""
        gate = threading.Event()
        with self.lock:
            self.stalled[(repo, sha)] = gate
        return gate

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.repo(repo)["comments"].get(number, [])]

    def deployments(self, repo: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(d) for d in self.repo(repo)["deployments"]]

    def deployment_states(self, repo: str, deployment_id: int) -> list[str]:
        with self.lock:
            return [s["state"] for s in self.repo(repo)["deployment_statuses"].get(deployment_id, [])]

    def deployment_statuses(self, repo: str, deployment_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(s) for s in self.repo(repo)["deployment_statuses"].get(deployment_id, [])]

    def commit_statuses(self, repo: str, sha: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(s) for s in self.repo(repo)["statuses"].get(sha, [])]

    def reactions(self, repo: str, comment_id: int) -> list[str]:
        with self.lock:
            return list(self.repo(repo)["reactions"].get(comment_id, []))

    def count(self, method: str | None = None, contains: str = "") -> int:
        with self.lock:
            return sum(1 for m, p, _ in self.requests if (method is None or m == method) and contains in p)

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()
            self.counted = 0

    # -- HTTP -----------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                      raw: bytes | None = None) -> None:
                data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if raw is None and body is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _trickle(self, blob: bytes, gate: threading.Event) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                sent = 0
                while not gate.is_set() and sent < len(blob) - 1:
                    self.wfile.write(blob[sent:sent + 1])
                    self.wfile.flush()
                    sent += 1
                    gate.wait(STALL_INTERVAL)
                self.wfile.write(blob[sent:])

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path).path.strip("/").split("/")
                if parts[0] == "_codeload" and len(parts) == 4:
                    with fake.lock:
                        gate = fake.stalled.get((f"{parts[1]}/{parts[2]}", parts[3]))
                        blob = fake.repo(f"{parts[1]}/{parts[2]}")["tarballs"].get(parts[3])
                        if gate is not None and blob:
                            fake.requests.append((method, urlsplit(self.path).path, 200))
                    if gate is not None and blob:
                        self._trickle(blob, gate)  # outside the lock: other requests go on
                        return
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length)) if length else None
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with fake.lock:
                    status, body, headers, raw = fake._route(method, url.path, query, payload, self.headers)
                    fake.requests.append((method, url.path, status))
                self._send(status, body, headers, raw)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler

    def _route(self, method: str, path: str, query: dict[str, str], payload: Any,
               headers: Any) -> tuple[int, Any, dict[str, str], bytes | None]:
        parts = path.strip("/").split("/")
        if parts[0] == "_codeload":  # the short-lived download host the tarball redirects to
            blob = self.repo(f"{parts[1]}/{parts[2]}")["tarballs"].get(parts[3])
            return (200, None, {"Content-Type": "application/gzip"}, blob) if blob else (404, None, {}, b"")
        auth = headers.get("Authorization") or ""
        app_level = path.startswith("/app/") or path.endswith("/installation")
        if app_level and auth.startswith("Bearer ey"):  # a GitHub App JWT (signature not checked)
            pass
        elif auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {"message": "Bad credentials"}, {}, None
        for i, (needle, status, extra) in enumerate(self.fail_next):
            if needle in path:
                del self.fail_next[i]
                self.counted += 1
                return status, {"message": self.fail_message}, {**self._rate_headers(), **extra}, None
        if self.outage:
            return 503, {"message": "outage"}, {}, None
        if self.remaining <= 0:
            return 403, {"message": "API rate limit exceeded"}, self._rate_headers(), None
        status, body, extra = self._api(method, parts, query, payload)
        etag = '"' + uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(body, sort_keys=True)).hex + '"'
        if method == "GET" and status == 200 and headers.get("If-None-Match") == etag:
            return 304, None, {"ETag": etag, **self._rate_headers()}, b""  # free: not counted
        self.counted += 1
        self.remaining -= 1
        if method == "GET" and status == 200:
            extra["ETag"] = etag
        return status, body, {**self._rate_headers(), **extra}, None

    def _rate_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(max(self.remaining, 0)),
                "X-RateLimit-Reset": str(self.reset), "X-RateLimit-Used": str(self.rate_limit - self.remaining),
                "X-RateLimit-Resource": "core"}

    def _page(self, items: list[Any], query: dict[str, str], path: str) -> tuple[int, Any, dict[str, str]]:
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        extra = {}
        if page * per_page < len(items):
            extra["Link"] = f'<{self.url}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, chunk, extra

    def _api(self, method: str, parts: list[str], query: dict[str, str],
             payload: Any) -> tuple[int, Any, dict[str, str]]:
        path = "/" + "/".join(parts)
        if parts[:1] == ["app"] and method == "POST" and parts[-1] == "access_tokens":
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            return 201, {"token": self.token, "expires_at": expires, "permissions": {}}, {}
        if parts[0] in ("users", "orgs"):
            return self._owners(method, parts, query, path)
        if parts[0] != "repos" or len(parts) < 4:
            return 404, {"message": "Not Found"}, {}
        repo = self.repo(f"{parts[1]}/{parts[2]}")
        rest = parts[3:]
        if rest == ["installation"]:
            return 200, {"id": 77, "app_id": 1}, {}
        if rest == ["pulls"] and method == "GET":
            pulls = [p for _, p in sorted(repo["pulls"].items(), reverse=True)
                     if query.get("state", "open") in ("all", p["state"]) and p["number"] not in self.unlisted]
            return self._page(pulls, query, path)
        if rest[0] == "pulls" and len(rest) == 3 and rest[2] == "files" and method == "GET":
            return self._page(repo["files"].get(int(rest[1]), []), query, path)
        if rest[0] == "pulls" and len(rest) == 2 and method == "GET":
            pr = repo["pulls"].get(int(rest[1]))
            return (200, pr, {}) if pr else (404, {"message": "Not Found"}, {})
        if rest[:1] == ["issues"] and len(rest) == 3 and rest[2] == "comments":
            comments = repo["comments"].setdefault(int(rest[1]), [])
            if method == "GET":
                return self._page(comments, query, path)
            comment = {"id": self._next_id(), "body": payload["body"], "user": {"login": "previewd[bot]"},
                       "history": [payload["body"]]}
            comments.append(comment)
            return 201, comment, {}
        if rest[:2] == ["issues", "comments"] and len(rest) == 3 and method == "PATCH":
            for comments in repo["comments"].values():
                for comment in comments:
                    if comment["id"] == int(rest[2]):
                        comment["body"] = payload["body"]
                        comment["history"] = [*comment["history"], payload["body"]]
                        comment["edits"] = comment.get("edits", 0) + 1
                        return 200, comment, {}
            return 404, {"message": "Not Found"}, {}
        if rest[:2] == ["issues", "comments"] and len(rest) == 4 and rest[3] == "reactions":
            repo["reactions"].setdefault(int(rest[2]), []).append(payload["content"])
            return 201, {"id": self._next_id(), "content": payload["content"]}, {}
        if rest == ["deployments"] and method == "POST":
            deployment = {"id": self._next_id(), **payload}
            repo["deployments"].append(deployment)
            return 201, deployment, {}
        if rest[:1] == ["deployments"] and len(rest) == 3 and method == "POST":
            status = {"id": self._next_id(), **payload}
            repo["deployment_statuses"].setdefault(int(rest[1]), []).append(status)
            return 201, status, {}
        if rest[:1] == ["statuses"] and method == "POST":
            repo["statuses"].setdefault(rest[1], []).append(dict(payload))
            return 201, {"id": self._next_id(), **payload}, {}
        if rest[:1] == ["collaborators"] and rest[-1] == "permission":
            permission = repo["permissions"].get(rest[1])
            if permission is None:
                return 404, {"message": "Not Found"}, {}
            return 200, {"permission": permission, "role_name": permission, "user": {"login": rest[1]}}, {}
        if rest[:1] == ["tarball"]:
            return 302, None, {"Location": f"{self.url}/_codeload/{parts[1]}/{parts[2]}/{rest[1]}"}
        return 404, {"message": "Not Found"}, {}

    def _owners(self, method: str, parts: list[str], query: dict[str, str],
                path: str) -> tuple[int, Any, dict[str, str]]:
        """``/users/{login}`` and the container package versions under ``/orgs`` or ``/users``."""
        from urllib.parse import unquote

        not_found: tuple[int, Any, dict[str, str]] = (404, {"message": "Not Found"}, {})
        if len(parts) < 2:
            return not_found
        login = parts[1]
        is_org = login in self.organizations
        if len(parts) == 2 and parts[0] == "users" and method == "GET":
            return 200, {"login": login, "id": 1, "type": "Organization" if is_org else "User"}, {}
        if parts[2:4] != ["packages", "container"] or len(parts) < 6 or parts[5] != "versions":
            return not_found
        if (parts[0] == "orgs") != is_org:
            return not_found  # GitHub answers only under the owner's own kind
        versions = self.packages.get((login, unquote(parts[4])))
        if versions is None:
            return (404, {"message": "Package not found."}, {})
        if len(parts) == 6 and method == "GET":
            return self._page(versions, query, path)
        if len(parts) == 7 and method == "DELETE":
            for version in versions:
                if version["id"] == int(parts[6]):
                    versions.remove(version)
                    return 204, None, {}
        return not_found


class FakeContainerPackages:
    """The GitHub Packages API for GHCR container versions (``ContainerPackages``), in memory:
    ``versions[(owner, package)]`` is a list of ``PackageVersion``; deletions are recorded."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], list[Any]] = {}
        self.deleted: list[tuple[str, str, int]] = []

    def list_container_versions(self, owner: str, package: str) -> list[Any]:
        return list(self.versions.get((owner, package), []))

    def delete_container_version(self, owner: str, package: str, version_id: int) -> None:
        self.deleted.append((owner, package, version_id))
        self.versions[(owner, package)] = [v for v in self.versions.get((owner, package), [])
                                           if v.id != version_id]


class FakeFlakyResolver:
    """An ImageResolver that raises TransientError for the listed PR numbers, ready otherwise."""

    def __init__(self, failing: set[int]) -> None:
        self.failing = failing

    def resolve(self, repo: object, preview: object) -> object:
        from previewd.core.ports import ImageResolution
        from previewd.errors import TransientError

        if getattr(preview, "number", None) in self.failing:
            raise TransientError("registry unreachable")
        return ImageResolution(ready=True)
