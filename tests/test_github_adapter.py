"""The GitHub adapter against FakeGitHub: conditional requests, pagination, rate limits, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from previewd.adapters.scm.github import GitHubScm
from previewd.adapters.scm.github_http import NotFound, RateLimited
from previewd.config import GithubConfig
from previewd.errors import PermanentError, TransientError
from tests.fakes import FakeClock, FakeGitHub, FakeSleep
from tests.support import REPO


def scm_for(fake: FakeGitHub, clock: FakeClock | None = None, sleeps: FakeSleep | None = None) -> GitHubScm:
    config = GithubConfig.model_validate({"api_url": fake.url, "auth": {"token": fake.token}})
    clock = clock or FakeClock(1_000_000.0)
    return GitHubScm(config, wall=clock, sleep=sleeps or FakeSleep(clock))


def test_unchanged_list_is_answered_304_and_costs_nothing(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    scm = scm_for(fake)
    first, fresh = scm.list_open_pulls(REPO)
    assert fresh and [p["number"] for p in first] == [1] and fake.counted == 1
    again, fresh = scm.list_open_pulls(REPO)
    assert not fresh and again == first
    assert fake.counted == 1 and fake.requests[-1][2] == 304 and scm.not_modified == 1
    fake.add_pull(REPO, 2, "2" * 40)
    changed, fresh = scm.list_open_pulls(REPO)
    assert fresh and sorted(p["number"] for p in changed) == [1, 2]


def test_pagination_is_followed(fake: FakeGitHub) -> None:
    for number in range(1, 251):
        fake.add_pull(REPO, number, f"{number:040x}")
    pulls, _ = scm_for(fake).list_open_pulls(REPO)
    assert sorted(p["number"] for p in pulls) == list(range(1, 251))
    assert fake.count("GET", "/pulls") == 3


def test_rate_limit_headers_are_tracked(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    scm = scm_for(fake)
    scm.get_pull(REPO, 1)
    assert scm.rate.limit == 5000 and scm.rate.remaining == 4999 and scm.rate.resource == "core"


def test_short_retry_after_is_waited_inline(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    clock = FakeClock(1_000_000.0)
    sleeps = FakeSleep(clock)
    fake.fail_next.append(("/pulls/1", 403, {"Retry-After": "1"}))  # secondary limit
    assert scm_for(fake, clock, sleeps).get_pull(REPO, 1)["number"] == 1
    assert sleeps.calls == [1.0]


def test_long_retry_after_pauses_every_call_until_it_passes(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    clock = FakeClock(1_000_000.0)
    scm = scm_for(fake, clock)
    fake.fail_next.append(("/pulls/1", 429, {"Retry-After": "120"}))
    with pytest.raises(RateLimited) as err:
        scm.get_pull(REPO, 1)
    assert err.value.retry_after == 120
    sent = len(fake.requests)
    with pytest.raises(RateLimited):
        scm.get_pull(REPO, 1)  # paused: not even sent
    assert len(fake.requests) == sent
    clock.now += 121
    assert scm.get_pull(REPO, 1)["number"] == 1


def test_secondary_limit_without_retry_after_backs_off_a_minute(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    clock = FakeClock(1_000_000.0)
    scm = scm_for(fake, clock)
    fake.fail_message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    fake.fail_next.append(("/pulls/1", 403, {}))
    with pytest.raises(RateLimited) as err:
        scm.get_pull(REPO, 1)
    assert err.value.retry_after == 60
    clock.now += 61
    assert scm.get_pull(REPO, 1)["number"] == 1


def test_exhausted_primary_limit_waits_for_reset(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    clock = FakeClock(float(fake.reset - 600))
    scm = scm_for(fake, clock)
    fake.remaining = 0
    with pytest.raises(RateLimited) as err:
        scm.get_pull(REPO, 1)
    assert 590 <= (err.value.retry_after or 0) <= 610
    assert scm.rate.remaining == 0 and scm.rate.paused_until is not None


def test_server_errors_are_retried_then_transient(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 1, "1" * 40)
    scm = scm_for(fake)
    fake.fail_next.append(("/pulls/1", 502, {}))
    assert scm.get_pull(REPO, 1)["number"] == 1
    fake.outage = True
    with pytest.raises(TransientError):
        scm.list_open_pulls(REPO)


def test_not_found_and_bad_credentials(fake: FakeGitHub) -> None:
    scm = scm_for(fake)
    with pytest.raises(NotFound):
        scm.get_pull(REPO, 404)
    config = GithubConfig.model_validate({"api_url": fake.url, "auth": {"token": "wrong"}})
    with pytest.raises(PermanentError) as err:
        GitHubScm(config).get_pull(REPO, 1)
    assert "401" in str(err.value) and "wrong" not in str(err.value)


def test_permission_of_non_collaborator_is_none(fake: FakeGitHub) -> None:
    fake.set_permission(REPO, "maint", "maintain")
    scm = scm_for(fake)
    assert scm.permission(REPO, "maint") == ("maintain", "maintain")
    assert scm.permission(REPO, "stranger") == (None, None)
    with pytest.raises(PermanentError):
        scm.permission(REPO, "../../admin")


def test_tarball_is_downloaded_and_extracted(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_tarball(REPO, "a" * 40, {"deploy/preview/kustomization.yaml": "resources: []\n"})
    root = scm_for(fake).download_tree(REPO, "a" * 40, tmp_path)
    assert (root / "deploy/preview/kustomization.yaml").read_text() == "resources: []\n"
    with pytest.raises(TransientError):
        scm_for(fake).download_tree(REPO, "b" * 40, tmp_path / "missing")


def test_app_installation_is_looked_up_once_and_its_token_cached(fake: FakeGitHub, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "app.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    fake.add_pull(REPO, 1, "1" * 40)
    config = GithubConfig.model_validate({"api_url": fake.url,
                                          "auth": {"app_id": 4242, "private_key_file": str(pem)}})
    scm = GitHubScm(config)
    for _ in range(3):
        assert scm.get_pull(REPO, 1)["number"] == 1
    assert fake.count("GET", "/installation") == 1
    assert fake.count("POST", "/access_tokens") == 1
    assert fake.count("GET", "/pulls/1") == 3


def test_pagination_link_to_another_host_is_not_followed(fake: FakeGitHub) -> None:
    for number in range(1, 151):
        fake.add_pull(REPO, number, f"{number:040x}")
    scm = scm_for(fake)
    fake.url = "http://127.0.0.2:9"  # the fake now writes Link headers to another origin
    with pytest.raises(TransientError, match="another host"):
        scm.list_open_pulls(REPO)
    assert fake.count("GET", "/pulls") == 1


def test_container_versions_of_a_user_package_are_listed_and_deleted(fake: FakeGitHub) -> None:
    from previewd.core.ports import ContainerPackages, PackageVersion

    ids = [fake.add_container_version("octo", "shop/api", f"sha256:{n:064x}", (f"pr-{n}-abc",))
           for n in range(150)]  # two pages
    untagged = fake.add_container_version("octo", "shop/api", "sha256:" + "f" * 64, ())
    scm: ContainerPackages = scm_for(fake)
    versions = scm.list_container_versions("octo", "shop/api")
    assert len(versions) == 151 and fake.count("GET", "/versions") == 2
    assert PackageVersion(ids[7], f"sha256:{7:064x}", ("pr-7-abc",)) in versions
    assert PackageVersion(untagged, "sha256:" + "f" * 64, ()) in versions
    scm.delete_container_version("octo", "shop/api", ids[7])
    assert ids[7] not in fake.container_tags("octo", "shop/api")
    assert fake.count("DELETE", "/users/octo/packages/container/shop%2Fapi/versions/") == 1
    scm.list_container_versions("octo", "shop/api")
    assert fake.count("GET", "/users/octo") - fake.count("GET", "/users/octo/") == 1  # kind cached


def test_container_versions_of_an_org_package_use_the_org_endpoints(fake: FakeGitHub) -> None:
    fake.organizations.add("acme")
    kept = fake.add_container_version("acme", "shop", "sha256:" + "a" * 64, ("main",))
    gone = fake.add_container_version("acme", "shop", "sha256:" + "b" * 64, ("pr-42-abc",))
    scm = scm_for(fake)
    assert [v.tags for v in scm.list_container_versions("acme", "shop")] == [("pr-42-abc",), ("main",)]
    scm.delete_container_version("acme", "shop", gone)
    scm.delete_container_version("acme", "shop", gone)  # already gone (a retried attempt): fine
    assert fake.container_tags("acme", "shop") == {kept: ["main"]}
    assert fake.count("DELETE", "/orgs/acme/packages/container/shop/versions/") == 2
    assert fake.count(contains="/users/acme/packages") == 0
    with pytest.raises(NotFound):
        scm.list_container_versions("acme", "missing")


def test_container_packages_refuse_app_auth_and_bad_names(fake: FakeGitHub, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "app.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    app = GitHubScm(GithubConfig.model_validate({"api_url": fake.url, "auth": {
        "app_id": 1, "private_key_file": str(pem)}}))
    with pytest.raises(PermanentError, match="personal access token"):
        app.list_container_versions("acme", "shop")
    with pytest.raises(PermanentError, match="not a container package name"):
        scm_for(fake).list_container_versions("acme", "shop?x=1")
    assert fake.requests == []


def test_tarball_download_is_bounded_in_bytes_and_time(
        fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``MAX_TARBALL_BYTES`` and ``TARBALL_DEADLINE`` stop the download (both lowered here)."""
    from previewd.adapters.scm import github

    fake.add_tarball(REPO, "a" * 40, {f"f{n}.bin": os.urandom(4096).hex() for n in range(16)})
    scm = scm_for(fake)
    monkeypatch.setattr(github, "MAX_TARBALL_BYTES", 16 * 1024)
    with pytest.raises(PermanentError, match=f"exceeds {16 * 1024} bytes"):
        scm.download_archive(scm.tarball_location(REPO, "a" * 40), tmp_path / "big", "acme/shop@a")
    monkeypatch.undo()
    monkeypatch.setattr(github, "TARBALL_DEADLINE", -1.0)  # already past at the first chunk
    with pytest.raises(TransientError, match="took longer than"):
        scm.download_archive(scm.tarball_location(REPO, "a" * 40), tmp_path / "slow", "acme/shop@a")
    monkeypatch.undo()
    archive = scm.download_archive(scm.tarball_location(REPO, "a" * 40), tmp_path / "ok", "acme/shop@a")
    assert archive.stat().st_size > 16 * 1024
