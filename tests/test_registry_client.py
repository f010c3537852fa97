"""The OCI distribution client against a real ``docker-registry`` (anonymous, htpasswd Basic,
and token auth with ``FakeTokenServer`` as the token issuer), plus scripted 429/5xx cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from previewd.adapters.registry import RegistryClient
from previewd.config import RegistryConfig
from previewd.errors import PermanentError, TransientError
from tests.fakes import FakeRegistryTransport, FakeTokenServer
from tests.registry_support import (
    HTPASSWD_PASSWORD,
    HTPASSWD_USER,
    OciLayout,
    Registry,
    htpasswd_auth,
    skopeo_push,
)

DIGEST = "sha256:" + "ab" * 32


def client_for(registry: Registry, username: str | None = None,
               password: str | None = None) -> RegistryClient:
    return RegistryClient([RegistryConfig(host=registry.host, insecure=True, username=username,
                                          password=password)])



def test_head_list_delete_against_the_real_registry(registry: Registry, tmp_path: Path) -> None:
    layout = OciLayout(tmp_path / "oci")
    single = layout.add_image("one")
    index = layout.add_index("multi")
    for tag in ("one", "multi"):
        skopeo_push(layout, tag, f"{registry.host}/acme/shop")
    layout.add_image("two", content=b"two")
    skopeo_push(layout, "two", f"{registry.host}/acme/shop")
    client = client_for(registry)

    one = client.head_manifest(registry.host, "acme/shop", "one")
    multi = client.head_manifest(registry.host, "acme/shop", "multi")
    assert one is not None and one.digest == single == registry.digest("acme/shop", "one")
    assert one.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert multi is not None and multi.digest == index  # the index, not a platform manifest
    assert multi.media_type == "application/vnd.oci.image.index.v1+json"
    assert client.head_manifest(registry.host, "acme/shop", "absent") is None
    assert client.head_manifest(registry.host, "acme/other", "one") is None

    assert sorted(client.list_tags(registry.host, "acme/shop", page_size=1)) == ["multi", "one", "two"]
    assert client.list_tags(registry.host, "acme/nothing") == []

    assert client.delete_manifest(registry.host, "acme/shop", single) is True
    assert client.delete_manifest(registry.host, "acme/shop", single) is False
    assert registry.tags("acme/shop") == ["multi", "two"]


def test_bad_references_and_disabled_deletes_are_permanent(tmp_path: Path) -> None:
    with Registry(tmp_path / "registry", delete=False) as registry:
        layout = OciLayout(tmp_path / "oci")
        digest = layout.add_image("one")
        skopeo_push(layout, "one", f"{registry.host}/acme/shop")
        client = client_for(registry)
        with pytest.raises(PermanentError, match="does not allow deletes"):
            client.delete_manifest(registry.host, "acme/shop", digest)
        with pytest.raises(PermanentError, match="not a sha256 digest"):
            client.delete_manifest(registry.host, "acme/shop", "one")
        with pytest.raises(PermanentError, match="not a valid tag"):
            client.head_manifest(registry.host, "acme/shop", "../../etc")
        with pytest.raises(PermanentError, match="repository name"):
            client.head_manifest(registry.host, "Acme/Shop", "one")


def test_registry_down_is_transient_and_never_leaks_credentials(registry: Registry) -> None:
    client = client_for(registry, "ci", "very-secret-password")
    registry.stop()
    with pytest.raises(TransientError) as err:
        client.head_manifest(registry.host, "acme/shop", "one")
    assert "very-secret-password" not in err.value.diagnostics()
    assert registry.host in err.value.diagnostics()


def test_basic_auth_with_htpasswd(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    with Registry(root, auth=htpasswd_auth(root)) as registry:
        layout = OciLayout(tmp_path / "oci")
        digest = layout.add_image("one")
        skopeo_push(layout, "one", f"{registry.host}/acme/shop",
                    creds=f"{HTPASSWD_USER}:{HTPASSWD_PASSWORD}")
        good = client_for(registry, HTPASSWD_USER, HTPASSWD_PASSWORD)
        info = good.head_manifest(registry.host, "acme/shop", "one")
        assert info is not None and info.digest == digest
        assert good.list_tags(registry.host, "acme/shop") == ["one"]

        for client in (client_for(registry), client_for(registry, HTPASSWD_USER, "wrong-pass")):
            with pytest.raises(PermanentError, match="access denied") as err:
                client.head_manifest(registry.host, "acme/shop", "one")
            assert "wrong-pass" not in err.value.diagnostics()


def test_bearer_token_challenge_with_token_server(tmp_path: Path) -> None:
    with FakeTokenServer(tmp_path / "token", "ci", "tok-pass") as tokens, \
            Registry(tmp_path / "registry", auth=tokens.registry_auth()) as registry:
        layout = OciLayout(tmp_path / "oci")
        digest = layout.add_image("one")
        skopeo_push(layout, "one", f"{registry.host}/acme/shop", creds="ci:tok-pass")
        tokens.requests.clear()
        client = client_for(registry, "ci", "tok-pass")
        for _ in range(3):
            info = client.head_manifest(registry.host, "acme/shop", "one")
            assert info is not None and info.digest == digest
        assert client.list_tags(registry.host, "acme/shop") == ["one"]
        # One token per scope, reused until it expires.
        assert tokens.requests == [("repository:acme/shop:pull", "ci")]
        assert client.delete_manifest(registry.host, "acme/shop", digest) is True
        assert tokens.requests[-1] == ("repository:acme/shop:delete", "ci")

        with pytest.raises(PermanentError, match="refused the credentials") as err:
            client_for(registry, "ci", "nope-pass").head_manifest(registry.host, "acme/shop", "one")
        assert "nope-pass" not in err.value.diagnostics()


def scripted(script: dict[str, list[tuple[int, dict[str, str]]]]) -> tuple[RegistryClient,
                                                                             FakeRegistryTransport,
                                                                             list[float]]:
    fake = FakeRegistryTransport(script)
    slept: list[float] = []
    client = RegistryClient([RegistryConfig(host="registry.test")], transport=fake.transport,
                            sleep=slept.append)
    return client, fake, slept


def test_429_retry_after_is_honoured() -> None:
    ok = (200, {"Docker-Content-Digest": DIGEST,
                "Content-Type": "application/vnd.oci.image.index.v1+json"})
    client, fake, slept = scripted({"HEAD /v2/acme/shop/manifests/v1": [
        (429, {"Retry-After": "2"}), ok]})
    info = client.head_manifest("registry.test", "acme/shop", "v1")
    assert info is not None and info.digest == DIGEST
    assert slept == [2.0]
    assert len(fake.seen) == 2


def test_long_retry_after_and_5xx_storms_become_transient_errors() -> None:
    client, _fake, slept = scripted({"HEAD /v2/acme/shop/manifests/v1": [
        (429, {"Retry-After": "120"})]})
    with pytest.raises(TransientError) as err:
        client.head_manifest("registry.test", "acme/shop", "v1")
    assert err.value.retry_after == 120.0 and slept == []

    client, fake, slept = scripted({"GET /v2/acme/shop/tags/list": [(503, {})]})
    with pytest.raises(TransientError, match="503"):
        client.list_tags("registry.test", "acme/shop")
    assert len(fake.seen) == 3 and len(slept) == 2  # bounded attempts with backoff


def test_missing_digest_header_falls_back_to_hashing_the_manifest() -> None:
    import hashlib

    body = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
    oci = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    client, fake, _slept = scripted({
        "HEAD /v2/acme/shop/manifests/v1": [(200, oci)],
        "GET /v2/acme/shop/manifests/v1": [(200, oci, body)],
    })
    info = client.head_manifest("registry.test", "acme/shop", "v1")
    assert info is not None and info.digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert fake.seen == ["HEAD /v2/acme/shop/manifests/v1", "GET /v2/acme/shop/manifests/v1"]


def test_pagination_stays_on_the_registry() -> None:
    client, fake, _slept = scripted({"GET /v2/acme/shop/tags/list": [
        (200, {"Link": '<https://elsewhere.example/v2/acme/shop/tags/list?last=a&n=1>; rel="next"',
               "Content-Type": "application/json"}, b'{"tags": ["a"]}'),
        (200, {"Content-Type": "application/json"}, b'{"tags": ["b"]}'),
    ]})
    assert client.list_tags("registry.test", "acme/shop", page_size=1) == ["a", "b"]
    assert fake.seen[1] == "GET /v2/acme/shop/tags/list?last=a&n=1"
    assert fake.hosts == ["registry.test", "registry.test"]  # never follows to elsewhere

    client, _fake, _slept = scripted({"GET /v2/acme/shop/tags/list": [
        (200, {"Link": '</login?next=x>; rel="next"', "Content-Type": "application/json"},
         b'{"tags": ["a"]}')]})
    with pytest.raises(PermanentError, match="outside /v2/"):
        client.list_tags("registry.test", "acme/shop")


def test_credentials_never_go_to_a_plain_http_token_realm() -> None:
    challenge = {"WWW-Authenticate": 'Bearer realm="http://auth.test/token",service="registry.test"'}
    ok = (200, {"Docker-Content-Digest": DIGEST, "Content-Type": "application/json"})
    script = {"HEAD /v2/acme/shop/manifests/v1": [(401, challenge), ok],
              "GET /token": [(200, {"Content-Type": "application/json"}, b'{"token": "t"}')]}
    fake = FakeRegistryTransport(script)
    secure = RegistryClient([RegistryConfig(host="registry.test", username="ci", password="s3cret")],
                    transport=fake.transport, sleep=lambda _s: None)
    with pytest.raises(PermanentError, match="not https") as err:
        secure.head_manifest("registry.test", "acme/shop", "v1")
    assert "auth.test" not in fake.hosts and "s3cret" not in err.value.diagnostics()

    # A registry configured insecure (a local one) may name a plain-http realm.
    fake = FakeRegistryTransport(script)
    insecure = RegistryClient([RegistryConfig(host="registry.test", insecure=True, username="ci",
                                      password="s3cret")], transport=fake.transport)
    info = insecure.head_manifest("registry.test", "acme/shop", "v1")
    assert info is not None and info.digest == DIGEST and "auth.test" in fake.hosts
