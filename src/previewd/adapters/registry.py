"""OCI distribution client (httpx): manifest HEAD, tag listing, delete by digest.

Shared by preview gating and the release controller. Auth follows the registry's
``WWW-Authenticate`` challenge: anonymous first, then Basic or a Bearer token from the
challenge's realm (with the configured username/password, if any; the realm must be https
unless the registry is configured ``insecure``). Every error is a
``TransientError`` (retry may help) or a ``PermanentError``, with credentials scrubbed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from previewd.adapters.http_retry import backoff, retry_after
from previewd.config import RegistryConfig
from previewd.errors import PermanentError, TransientError, scrub
from previewd.images import (
    DOCKER_HUB_ALIASES,
    PULLED_MANIFEST_TYPES,
    REPOSITORY_PATH,
    SHA256_DIGEST,
    SHA256_PATTERN,
    TAG_PATTERN,
)

log = logging.getLogger("previewd.registry")

ACCEPT = ", ".join(PULLED_MANIFEST_TYPES)

_REFERENCE = re.compile(rf"^(?:{TAG_PATTERN}|{SHA256_PATTERN})$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
MAX_RETRY_AFTER = 10.0  # longer Retry-After waits are handed back to the caller
ATTEMPTS = 3  # for 429 and 5xx inside one call


@dataclass(frozen=True)
class ManifestInfo:
    """What a manifest HEAD says: the top-level digest (an index for multi-arch images)."""

    digest: str
    media_type: str | None


@dataclass
class _Auth:
    """What we learnt about a host: the scheme it wants and cached bearer tokens per scope."""

    scheme: str | None = None  # None (anonymous works), "basic" or "bearer"
    realm: str | None = None
    service: str | None = None
    # scope -> (token, expires at monotonic)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)


class RegistryClient:
    """One client for every configured registry; unknown hosts are used anonymously over https."""

    def __init__(
        self,
        registries: Iterable[RegistryConfig],
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._registries = {r.host: r for r in registries}
        self._http = httpx.Client(
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            transport=transport,
            follow_redirects=True,  # blob/manifest redirects to storage backends
            headers={"User-Agent": "previewd"},
        )
        self._auth: dict[str, _Auth] = {}
        self._lock = threading.Lock()
        self._sleep = sleep
        self._secrets = [r.password.get_secret_value() for r in self._registries.values() if r.password]

    def close(self) -> None:
        self._http.close()

    # -- public API ------------------------------------------------------------------

    def head_manifest(self, host: str, repository: str, reference: str) -> ManifestInfo | None:
        """The manifest's top-level digest and media type; None when the tag/digest is unknown."""
        _check(repository, reference)
        path = f"/v2/{repository}/manifests/{reference}"
        response = self._request("HEAD", host, repository, "pull", path, {"Accept": ACCEPT})
        if response.status_code == 404:
            return None
        self._raise_for(response, host, f"HEAD {repository}:{reference}")
        digest = response.headers.get("docker-content-digest")
        media_type = _media_type(response.headers.get("content-type"))
        if not digest or not SHA256_DIGEST.match(digest):
            # Some registries omit the header on HEAD: GET and hash the exact bytes instead.
            response = self._request("GET", host, repository, "pull", path, {"Accept": ACCEPT})
            if response.status_code == 404:
                return None
            self._raise_for(response, host, f"GET {repository}:{reference}")
            digest = "sha256:" + hashlib.sha256(response.content).hexdigest()
            media_type = _media_type(response.headers.get("content-type"))
        return ManifestInfo(digest, media_type)

    def list_tags(self, host: str, repository: str, page_size: int = 100) -> list[str]:
        """Every tag of ``repository`` (following ``Link: <...>; rel="next"``); [] if unknown."""
        _check(repository, None)
        tags: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list?n={page_size}"
        seen: set[str] = set()
        while path is not None and path not in seen:
            seen.add(path)
            response = self._request("GET", host, repository, "pull", path, {})
            if response.status_code == 404:
                return tags
            self._raise_for(response, host, f"list tags of {repository}")
            try:
                page = response.json().get("tags") or []
            except ValueError:
                raise TransientError(f"registry {host}: tags of {repository} not JSON") from None
            tags += [t for t in page if isinstance(t, str)]
            match = _LINK_NEXT.search(response.headers.get("link", ""))
            path = _same_origin_path(match.group(1)) if match else None
        return tags

    def delete_manifest(self, host: str, repository: str, digest: str) -> bool:
        """Delete a manifest by digest (removes every tag on it); False if it was already gone."""
        if not SHA256_DIGEST.match(digest):
            raise PermanentError(f"refusing to delete {digest!r}: not a sha256 digest")
        _check(repository, digest)
        path = f"/v2/{repository}/manifests/{digest}"
        response = self._request("DELETE", host, repository, "delete", path, {"Accept": ACCEPT})
        if response.status_code == 404:
            return False
        if response.status_code == 405:
            raise PermanentError(f"registry {host} does not allow deletes (delete disabled?)")
        self._raise_for(response, host, f"DELETE {repository}@{digest}")
        return True

    # -- plumbing --------------------------------------------------------------------

    def _insecure(self, host: str) -> bool:
        config = self._registries.get(host.lower())
        return bool(config and config.insecure)

    def _base(self, host: str) -> str:
        api_host = "registry-1.docker.io" if host in DOCKER_HUB_ALIASES else host
        return f"{'http' if self._insecure(host) else 'https'}://{api_host}"

    def _credentials(self, host: str) -> tuple[str, str] | None:
        config = self._registries.get(host.lower())
        if config and config.username and config.password:
            return config.username, config.password.get_secret_value()
        return None

    def _request(
        self, method: str, host: str, repository: str, actions: str, path: str,
        headers: dict[str, str],
    ) -> httpx.Response:
        """Send with auth; retries 429/5xx a few times honouring Retry-After, then raises."""
        url = self._base(host) + path
        scope = f"repository:{repository}:{actions}"
        attempt = 0
        while True:
            response = self._send(method, url, host, {**headers, **self._auth_header(host, scope)})
            if response.status_code == 401:
                self._learn(host, response)
                retry = self._auth_header(host, scope, force=True)
                if retry:
                    response = self._send(method, url, host, {**headers, **retry})
            if response.status_code != 429 and response.status_code < 500:
                return response
            attempt += 1
            asked = retry_after(response.headers)
            wait = asked or backoff(attempt)
            if wait > MAX_RETRY_AFTER or attempt >= ATTEMPTS:
                raise TransientError(
                    f"registry {host}: {method} {path.split('?')[0]} answered "
                    f"{response.status_code}",
                    retry_after=asked,
                )
            log.info("registry %s answered %d; retrying in %.1fs", host, response.status_code, wait)
            self._sleep(wait)

    def _send(self, method: str, url: str, host: str, headers: dict[str, str]) -> httpx.Response:
        try:
            return self._http.request(method, url, headers=headers)
        except httpx.TimeoutException:
            raise TransientError(f"registry {host}: {method} timed out") from None
        except httpx.HTTPError as err:
            detail = scrub(f"{type(err).__name__}: {err}", self._secret_values())
            raise TransientError(f"registry {host}: {method} failed ({detail})") from None

    def _secret_values(self) -> list[str]:
        """Configured credentials plus the bearer tokens currently cached."""
        with self._lock:
            tokens = [t for a in self._auth.values() for t, _ in a.tokens.values()]
        return self._secrets + tokens

    def _learn(self, host: str, response: httpx.Response) -> None:
        """Remember how ``host`` wants to be authenticated, from its 401 challenge."""
        challenge = response.headers.get("www-authenticate", "")
        scheme, _, params = challenge.partition(" ")
        values = dict(_CHALLENGE_PARAM.findall(params))
        with self._lock:
            auth = self._auth.setdefault(host, _Auth())
            if scheme.lower() == "bearer" and values.get("realm"):
                auth.scheme, auth.realm = "bearer", values["realm"]
                auth.service = values.get("service")
            elif scheme.lower() == "basic":
                auth.scheme = "basic"
            auth.tokens.clear()  # a 401 with a token means it expired or lacks the scope

    def _auth_header(self, host: str, scope: str, force: bool = False) -> dict[str, str]:
        auth = self._auth.get(host)
        if auth is None or auth.scheme is None:
            return {}
        if auth.scheme == "basic":
            creds = self._credentials(host)
            if creds is None:
                return {}
            user, password = creds
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        cached = auth.tokens.get(scope)
        if cached and cached[1] > time.monotonic() and not force:
            return {"Authorization": f"Bearer {cached[0]}"}
        token = self._fetch_token(host, auth, scope)
        return {"Authorization": f"Bearer {token}"}

    def _fetch_token(self, host: str, auth: _Auth, scope: str) -> str:
        realm = auth.realm or ""
        if urlsplit(realm).scheme.lower() != "https" and not self._insecure(host):
            # Credentials go to the realm: never in clear text, wherever the registry points.
            raise PermanentError(
                f"registry {host}: refusing token realm {scrub(realm)!r}: not https "
                "(set insecure: true for this registry to allow plain http)")
        params = {"scope": scope}
        if auth.service:
            params["service"] = auth.service
        creds = self._credentials(host)
        try:
            response = self._http.get(
                realm, params=params, auth=httpx.BasicAuth(*creds) if creds else None
            )
        except httpx.HTTPError as err:
            raise TransientError(
                f"registry {host}: token request failed ({type(err).__name__})") from None
        if response.status_code in (401, 403):
            raise PermanentError(f"registry {host}: token server refused the credentials")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"registry {host}: token server answered {response.status_code}",
                                 retry_after=retry_after(response.headers))
        try:
            body = response.json()
            token = str(body.get("token") or body.get("access_token") or "")
            expires = float(body.get("expires_in") or 60)
        except (ValueError, AttributeError):
            raise TransientError(f"registry {host}: token response is not JSON") from None
        if not token:
            raise PermanentError(f"registry {host}: token server returned no token")
        with self._lock:
            # Renew a little early so a token never expires between check and use.
            auth.tokens[scope] = (token, time.monotonic() + max(expires - 10, 1))
        return token

    def _raise_for(self, response: httpx.Response, host: str, what: str) -> None:
        code = response.status_code
        if code < 400:
            return
        if code in (401, 403):
            raise PermanentError(f"registry {host}: {what}: access denied ({code})")
        raise PermanentError(f"registry {host}: {what}: answered {code}")


def _check(repository: str, reference: str | None) -> None:
    if not REPOSITORY_PATH.match(repository):
        raise PermanentError(f"not a valid repository name: {repository!r}")
    if reference is not None and not _REFERENCE.match(reference):
        raise PermanentError(f"not a valid tag or digest: {reference!r}")


def _media_type(value: str | None) -> str | None:
    return value.split(";")[0].strip() if value else None


def _same_origin_path(link: str) -> str:
    """A Link target as a path on the same registry: credentials never follow it elsewhere."""
    parts = urlsplit(link)
    if not parts.path.startswith("/v2/"):
        raise PermanentError("registry sent a pagination link outside /v2/")
    return parts.path + (f"?{parts.query}" if parts.query else "")
