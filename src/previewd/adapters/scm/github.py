"""GitHub REST adapter on githubkit: token or App auth, conditional GETs, pagination, rate limits.

Every GET goes out with ``If-None-Match`` once an ETag is known, so an unchanged resource costs
no rate limit (GitHub does not count 304 answers). Rate-limit headers are tracked; a limited
request backs off for ``Retry-After`` (or until the reset), inline when short, otherwise by
pausing every call and raising ``TransientError`` so the caller retries later. Errors never
carry tokens or URLs with credentials.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)

from previewd.adapters.http_retry import backoff, retry_after
from previewd.adapters.scm.github_auth import read_private_key
from previewd.adapters.scm.github_http import (
    NotFound,
    RateLimit,
    RateLimited,
    Reply,
    accept_json,
    api_path,
    failure,
    is_secondary_limit,
)
from previewd.adapters.scm.tarball import extract_single_tree
from previewd.changed_files import MAX_CHANGED_FILES
from previewd.config import GithubConfig
from previewd.core.ports import PackageVersion
from previewd.errors import PermanentError, TransientError

log = logging.getLogger("previewd.github")

MAX_TARBALL_BYTES = 200 * 1024 * 1024
TARBALL_DEADLINE = 120.0  # seconds for a whole tarball download, however slowly it trickles
MAX_PAGES = 100  # 10,000 items of 100: far beyond any list previewd reads
_ETAG_CACHE_SIZE = 20_000



class GitHubScm:
    """The GitHub port: everything previewd reads from or writes to GitHub."""

    def __init__(
        self,
        config: GithubConfig,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
        max_attempts: int = 3,
        max_inline_wait: float = 2.0,
    ) -> None:
        if config.auth is None:
            raise PermanentError("github.auth is not configured")
        self.api_url = config.api_url.rstrip("/") + "/"
        self.rate = RateLimit()
        self.requests = 0  # requests sent
        self.not_modified = 0  # of which answered 304 (free)
        self._wall, self._sleep = wall, sleep
        self._timeout, self._max_attempts, self._max_inline_wait = timeout, max_attempts, max_inline_wait
        self._etags: OrderedDict[str, tuple[str, Any, str | None]] = OrderedDict()  # url -> etag, body, next
        self._lock = threading.RLock()
        self._transport = httpx.HTTPTransport(retries=0)
        auth = config.auth
        self._app: AppAuthStrategy | None = None
        self._clients: dict[int | None, GitHub[Any]] = {}
        self._installations: dict[str, int] = {}
        self._owner_kinds: dict[str, str] = {}  # owner (lower-case) -> "orgs" | "users"
        self._app_client: GitHub[Any] | None = None
        self._fixed_installation: int | None = None
        if auth.token is not None:
            self._clients[None] = self._github(TokenAuthStrategy(auth.token.get_secret_value()))
        elif auth.app_id is not None:
            self._app = AppAuthStrategy(auth.app_id, read_private_key(auth))
            self._fixed_installation = auth.installation_id
        else:
            raise PermanentError("github.auth needs a token or an app_id")

    def _github(self, strategy: Any) -> GitHub[Any]:
        # http_cache off: we keep ETags ourselves; auto_retry off: we honour Retry-After ourselves.
        return GitHub(strategy, base_url=self.api_url, timeout=self._timeout, http_cache=False,
                      auto_retry=False, follow_redirects=False, transport=self._transport,
                      user_agent="previewd", event_hooks={"request": [accept_json]})

    # -- plumbing ----------------------------------------------------------------------

    def _client(self, repo: str) -> GitHub[Any]:
        if self._app is None:
            return self._clients[None]
        installation = self._fixed_installation or self._installation_of(repo)
        if installation not in self._clients:
            strategy = AppInstallationAuthStrategy(self._app.app_id, self._app.private_key, installation)
            self._clients[installation] = self._github(strategy)
        return self._clients[installation]

    def _installation_of(self, repo: str) -> int:
        if repo.lower() not in self._installations:
            if self._app_client is None:
                self._app_client = self._github(self._app)
            reply = self._send(self._app_client, "GET", f"repos/{repo}/installation")
            self._installations[repo.lower()] = int(reply.data["id"])
        return self._installations[repo.lower()]

    def _paused(self) -> float:
        until = self.rate.paused_until
        if until is None:
            return 0.0
        left = until - self._wall()
        if left <= 0:
            self.rate.paused_until = None
            return 0.0
        return left

    def _track(self, headers: httpx.Headers) -> None:
        def num(name: str) -> int | None:
            value = headers.get(name)
            return int(value) if value is not None and value.isdigit() else None

        if "x-ratelimit-remaining" in headers:
            self.rate.limit, self.rate.remaining = num("x-ratelimit-limit"), num("x-ratelimit-remaining")
            self.rate.reset, self.rate.used = num("x-ratelimit-reset"), num("x-ratelimit-used")
            self.rate.resource = headers.get("x-ratelimit-resource")

    def _retry_after(self, headers: httpx.Headers) -> float:
        """``Retry-After`` if sent, else until ``X-RateLimit-Reset``, else a minute (GitHub's advice)."""
        seconds = retry_after(headers, now=self._wall())
        if seconds is not None:
            return seconds
        reset = headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            return max(float(reset) - self._wall(), 1.0)
        return 60.0

    def _back_off(self, seconds: float, why: str) -> None:
        self.rate.paused_until = self._wall() + seconds
        log.warning("GitHub rate limit (%s): pausing GitHub calls for %.0fs", why, seconds)
        raise RateLimited(f"GitHub rate limit ({why}); retry in {seconds:.0f}s", retry_after=seconds)

    def _send(self, gh: GitHub[Any], method: str, url: str, *, params: dict[str, Any] | None = None,
              json: Any = None, conditional: bool = False) -> Reply:
        """One logical request with retries; returns the cached body on 304."""
        key = str(httpx.URL(self.api_url).join(url).copy_merge_params(params or {}))
        with self._lock:
            cached = self._etags.get(key) if conditional else None
        headers = {"If-None-Match": cached[0]} if cached else {}
        for attempt in range(1, self._max_attempts + 1):
            wait = self._paused()
            if wait:
                raise RateLimited(f"GitHub calls paused for {wait:.0f}s (rate limit)", retry_after=wait)
            self.requests += 1
            try:
                resp = gh.request(method, url, params=params, json=json, headers=headers)
            except RateLimitExceeded as err:
                self._track(err.response.headers)
                seconds = self._retry_after(err.response.headers)
                if isinstance(err, SecondaryRateLimitExceeded):
                    seconds = max(seconds, 1.0 * attempt)
                if seconds <= self._max_inline_wait and attempt < self._max_attempts:
                    self._sleep(seconds)
                    continue
                self._back_off(max(seconds, 1.0), "secondary" if isinstance(err, SecondaryRateLimitExceeded)
                               else "primary")
            except RequestFailed as err:
                status = err.response.status_code
                self._track(err.response.headers)
                if status in (403, 429) and is_secondary_limit(err.response):
                    # A secondary limit without Retry-After: GitHub asks for at least a minute.
                    self._back_off(60.0 * attempt, "secondary")
                if status >= 500 and attempt < self._max_attempts:
                    self._sleep(backoff(attempt - 1))
                    continue
                raise failure(method, url, status, err.response) from None
            except RequestTimeout:
                # Not retried inline: a slow GitHub must not hold the worker; the job retries later.
                raise TransientError(f"GitHub {method} {api_path(url)} timed out") from None
            except GitHubException as err:
                raise TransientError(f"GitHub {method} {api_path(url)} failed: {type(err).__name__}") from None
            self._track(resp.headers)
            if resp.status_code == 304 and cached:
                self.not_modified += 1
                with self._lock:
                    self._etags.move_to_end(key)
                return Reply(304, cached[1], not_modified=True, next_url=cached[2])
            data = resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else None
            if resp.status_code in (301, 302, 307):
                data = {"location": resp.headers.get("location")}
            etag, next_url = resp.headers.get("etag"), resp.raw_response.links.get("next", {}).get("url")
            if conditional and etag and resp.status_code == 200:
                with self._lock:
                    self._etags[key] = (etag, data, next_url)
                    self._etags.move_to_end(key)
                    while len(self._etags) > _ETAG_CACHE_SIZE:
                        self._etags.popitem(last=False)
            return Reply(resp.status_code, data, next_url=next_url)
        raise TransientError(f"GitHub {method} {api_path(url)}: gave up after {self._max_attempts} attempts")

    def _get_all(self, repo: str, url: str, params: dict[str, Any]) -> tuple[list[Any], bool]:
        """Every page (``Link: rel=next`` followed), each conditional; (items, anything changed)."""
        return self._get_pages(self._client(repo), url, params)

    def _get_pages(self, gh: GitHub[Any], url: str, params: dict[str, Any]) -> tuple[list[Any], bool]:
        items: list[Any] = []
        changed = False
        page: str | None = url
        query: dict[str, Any] | None = {**params, "per_page": 100}
        for _ in range(MAX_PAGES):
            if page is None:
                return items, changed
            reply = self._send(gh, "GET", page, params=query, conditional=True)
            if not isinstance(reply.data, list):
                raise TransientError(f"GitHub GET {api_path(url)}: expected a list")
            if reply.next_url and len(reply.data) >= 100:
                self._check_link(reply.next_url)
            changed = changed or not reply.not_modified
            items += reply.data
            # A short page is the last one, whatever its Link says; the next link has its own query.
            page, query = (reply.next_url if len(reply.data) >= 100 else None), None
        raise TransientError(f"GitHub GET {api_path(url)}: more than {MAX_PAGES} pages")

    def _check_link(self, target: str) -> None:
        """A ``rel="next"`` URL is followed only on the API origin (it gets our credentials)."""
        api, link = httpx.URL(self.api_url), httpx.URL(target)
        if (link.scheme, link.host, link.port) != (api.scheme, api.host, api.port):
            raise TransientError("GitHub sent a pagination link to another host; not followed")

    # -- reads --------------------------------------------------------------------------

    def list_open_pulls(self, repo: str) -> tuple[list[dict[str, Any]], bool]:
        """Every open PR of ``repo``; raises on any error (a partial list is never returned)."""
        return self._get_all(repo, f"repos/{repo}/pulls", {"state": "open"})

    def get_pull(self, repo: str, number: int) -> dict[str, Any]:
        data = self._send(self._client(repo), "GET", f"repos/{repo}/pulls/{int(number)}",
                          conditional=True).data
        if not isinstance(data, dict):
            raise TransientError("GitHub GET pull: unexpected body")
        return data

    def pull_files(self, repo: str, number: int) -> list[str]:
        """The repository paths a PR changes (renames: both names), every page ETag-conditional;
        at most ``MAX_CHANGED_FILES`` (GitHub lists no more than that)."""
        items, _ = self._get_all(repo, f"repos/{repo}/pulls/{int(number)}/files", {})
        paths: list[str] = []
        for item in items[:MAX_CHANGED_FILES]:
            if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
                raise TransientError("GitHub GET pull files: unexpected item")
            paths.append(item["filename"])
            if isinstance(item.get("previous_filename"), str):
                paths.append(item["previous_filename"])
        return paths

    def permission(self, repo: str, login: str) -> tuple[str | None, str | None]:
        """(permission, role_name) of ``login`` on ``repo``; (None, None) if not a collaborator."""
        try:
            data = self._send(self._client(repo), "GET",
                              f"repos/{repo}/collaborators/{_login(login)}/permission").data
        except NotFound:
            return None, None
        return data.get("permission"), data.get("role_name")

    def find_comment(self, repo: str, number: int, marker: str) -> int | None:
        """The id of the first issue comment containing ``marker``."""
        comments, _ = self._get_all(repo, f"repos/{repo}/issues/{int(number)}/comments", {})
        for comment in comments:
            if marker in (comment.get("body") or ""):
                return int(comment["id"])
        return None

    # -- writes -------------------------------------------------------------------------

    def create_comment(self, repo: str, number: int, body: str) -> int:
        data = self._send(self._client(repo), "POST", f"repos/{repo}/issues/{int(number)}/comments",
                          json={"body": body}).data
        return int(data["id"])

    def update_comment(self, repo: str, comment_id: int, body: str) -> None:
        self._send(self._client(repo), "PATCH", f"repos/{repo}/issues/comments/{int(comment_id)}",
                   json={"body": body})

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self._send(self._client(repo), "POST", f"repos/{repo}/issues/comments/{int(comment_id)}/reactions",
                   json={"content": content})

    def create_deployment(self, repo: str, sha: str, environment: str, description: str) -> int:
        data = self._send(self._client(repo), "POST", f"repos/{repo}/deployments", json={
            "ref": sha, "environment": environment, "description": description,
            "auto_merge": False, "required_contexts": [],
            "transient_environment": True, "production_environment": False,
        }).data
        if not isinstance(data, dict) or "id" not in data:  # 202: GitHub declined (merge conflict)
            raise TransientError("GitHub did not create the deployment")
        return int(data["id"])

    def create_deployment_status(self, repo: str, deployment_id: int, state: str, description: str,
                                 environment_url: str | None, log_url: str | None) -> None:
        body: dict[str, Any] = {"state": state, "description": description[:140],
                                "auto_inactive": state == "success"}
        if environment_url:
            body["environment_url"] = environment_url
        if log_url:
            body["log_url"] = log_url
        self._send(self._client(repo), "POST",
                   f"repos/{repo}/deployments/{int(deployment_id)}/statuses", json=body)

    def create_commit_status(self, repo: str, sha: str, state: str, description: str,
                             target_url: str | None, context: str) -> None:
        body: dict[str, Any] = {"state": state, "description": description[:140], "context": context}
        if target_url:
            body["target_url"] = target_url
        self._send(self._client(repo), "POST", f"repos/{repo}/statuses/{sha}", json=body)

    # -- GitHub Packages (GHCR tag cleanup) ---------------------------------------------

    def list_container_versions(self, owner: str, package: str) -> list[PackageVersion]:
        """Every active version of the container package ``owner/package`` with its tags."""
        gh = self._packages_client()
        items, _ = self._get_pages(gh, f"{self._container_package(gh, owner, package)}/versions", {})
        return [_package_version(item) for item in items]

    def delete_container_version(self, owner: str, package: str, version_id: int) -> None:
        """Delete one version (a manifest and every tag on it); one already gone is not an error."""
        gh = self._packages_client()
        url = f"{self._container_package(gh, owner, package)}/versions/{int(version_id)}"
        try:
            self._send(gh, "DELETE", url)
        except NotFound:
            log.info("GHCR %s/%s version %d was already deleted", owner, package, version_id)

    def _packages_client(self) -> GitHub[Any]:
        if self._app is not None:
            # GitHub's Packages REST API refuses installation and fine-grained tokens.
            raise PermanentError("the GitHub Packages API accepts only a personal access token (classic): "
                                 "set github.auth.token with read:packages and delete:packages")
        return self._clients[None]

    def _container_package(self, gh: GitHub[Any], owner: str, package: str) -> str:
        """``orgs/{org}/...`` or ``users/{user}/...``, decided once per owner by ``GET /users/{owner}``."""
        login, name = _login(owner), _package_name(package)
        kind = self._owner_kinds.get(login.lower())
        if kind is None:
            data = self._send(gh, "GET", f"users/{login}").data
            if not isinstance(data, dict) or "type" not in data:
                raise TransientError("GitHub GET user: unexpected body")
            kind = "orgs" if data["type"] == "Organization" else "users"
            self._owner_kinds[login.lower()] = kind
        return f"{kind}/{login}/packages/container/{name}"

    # -- bundle download -----------------------------------------------------------------

    def tarball_location(self, repo: str, sha: str) -> str:
        """Where GitHub serves the repository at ``sha`` (a short-lived codeload URL)."""
        reply = self._send(self._client(repo), "GET", f"repos/{repo}/tarball/{sha}")
        location = reply.data.get("location") if isinstance(reply.data, dict) else None
        if not location:
            raise TransientError(f"GitHub tarball of {repo}@{sha[:12]}: no redirect location")
        return str(location)

    def download_tree(self, repo: str, sha: str, dest: Path) -> Path:
        """The repository at ``sha`` extracted under ``dest``; returns its top directory."""
        archive = self.download_archive(self.tarball_location(repo, sha), dest, f"{repo}@{sha[:12]}")
        return extract_single_tree(archive, dest / "tree", f"{repo}@{sha[:12]}")

    def download_archive(self, location: str, dest: Path, what: str) -> Path:
        """The tarball at ``location`` (from ``tarball_location``) saved under ``dest``: at most
        ``MAX_TARBALL_BYTES``, within ``TARBALL_DEADLINE`` seconds however slowly it is sent. Uses
        no API client, so it may run on any thread."""
        dest.mkdir(parents=True, exist_ok=True)
        archive = dest / "source.tar.gz"
        size = 0
        deadline = time.monotonic() + TARBALL_DEADLINE
        try:
            # The codeload URL carries its own short-lived token: no Authorization header is sent.
            with httpx.stream("GET", location, timeout=self._timeout, follow_redirects=True) as resp:
                if resp.status_code != 200:
                    raise TransientError(f"tarball download of {what}: HTTP {resp.status_code}")
                with archive.open("wb") as out:
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > MAX_TARBALL_BYTES:
                            raise PermanentError(f"tarball of {what} exceeds {MAX_TARBALL_BYTES} bytes")
                        if time.monotonic() > deadline:
                            raise TransientError(f"tarball download of {what} took longer than "
                                                 f"{TARBALL_DEADLINE:.0f}s")
                        out.write(chunk)
        except httpx.HTTPError as err:
            raise TransientError(f"tarball download of {what} failed: {type(err).__name__}") from None
        return archive


def _package_name(package: str) -> str:
    """A GHCR package name as one path segment: ``shop/api`` is sent as ``shop%2Fapi``."""
    if not package or any(c.isspace() or c in "?#%" for c in package):
        raise PermanentError(f"not a container package name: {package!r}")
    return quote(package, safe="")


def _package_version(item: Any) -> PackageVersion:
    """A package version from the API: ``name`` is the manifest digest, tags under ``metadata``."""
    try:
        tags = ((item.get("metadata") or {}).get("container") or {}).get("tags") or []
        return PackageVersion(int(item["id"]), str(item["name"]), tuple(str(t) for t in tags))
    except (AttributeError, KeyError, TypeError, ValueError):
        raise TransientError("GitHub package versions: unexpected item") from None


def _login(login: str) -> str:
    clean = "".join(c for c in login if c.isalnum() or c in "-[]")
    if not clean or clean != login:
        raise PermanentError("not a GitHub login")
    return clean
