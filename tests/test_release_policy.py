"""Release policy: tag filters, semver ranges, auto/manual, never backwards."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.releases.contract import parse_app_env
from previewd.releases.policy import Action, Current, decide
from previewd.releases.semver import RangeError, Version, parse_range, parse_version, satisfies
from tests.release_support import app_env

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")
MANUAL = ["prod"]


def env(mode: str | None = "auto", environment: str = "dev", **policy: str):  # type: ignore[no-untyped-def]
    return parse_app_env(app_env("h.io/a", mode=mode, environment=environment, **policy))


@pytest.mark.parametrize(("spec", "version", "expected"), [
    ("^1.2", "1.9.0", True), ("^1.2", "2.0.0", False), ("^1.2", "1.1.9", False),
    ("^0.2.3", "0.2.9", True), ("^0.2.3", "0.3.0", False), ("^0.0.3", "0.0.4", False),
    ("~1.2.3", "1.2.9", True), ("~1.2.3", "1.3.0", False), ("~1", "1.9.9", True),
    (">=1.0.0 <2", "1.5.0", True), (">=1.0.0 <2", "2.0.0", False),
    (">= 1.0.0 < 2", "1.0.0", True),
    ("1.x", "1.4.4", True), ("1.x", "2.0.0", False), ("1.2", "1.2.5", True),
    (">1.2", "1.2.9", False), (">1.2", "1.3.0", True), ("<=1.2", "1.2.7", True),
    ("<=1.2", "1.3.0", False), ("*", "9.9.9", True), ("^1 || ^3", "3.1.0", True),
    ("^1 || ^3", "2.1.0", False), ("^1.2", "1.3.0-rc.1", False),
    (">=1.0.0-rc.1", "1.0.0-rc.2", True), (">=1.0.0-rc.1", "1.0.0-rc.0", False),
    (">=1.0.0-rc.1", "1.5.0-beta", False), (">1.2", "1.3.0-rc.1", False), ("*", "1.0.0-rc.1", False),
    ("^1.2.3-beta.1", "1.2.3-beta.2", True), ("^1.2.3-beta.1", "1.2.4-beta.1", False),
    (">=1.0.0-rc.1 || >=2.0.0-rc.1", "2.0.0-rc.2", True),
    ("=1.2.3", "1.2.3", True), ("1.2.3", "1.2.4", False),
])
def test_semver_ranges(spec: str, version: str, expected: bool) -> None:
    parsed = parse_version(version)
    assert parsed is not None
    assert satisfies(parsed, spec) is expected


@pytest.mark.parametrize("bad", ["", "banana", ">=1.2.3.4", "^a", "1.2 ||"])
def test_bad_ranges(bad: str) -> None:
    with pytest.raises(RangeError):
        parse_range(bad)


@given(st.tuples(*[st.integers(0, 20)] * 3), st.tuples(*[st.integers(0, 20)] * 3))
def test_version_order_is_numeric(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    va, vb = parse_version("v{}.{}.{}".format(*a)), parse_version("{}.{}.{}".format(*b))
    assert va is not None and vb is not None
    assert (va < vb) == (a < b)
    assert Version(*a, pre=("rc",)) < Version(*a)


def test_auto_releases_a_new_digest() -> None:
    d = decide(env(), "1.0", D2, Current(D1, "0.9"), MANUAL)
    assert d.action is Action.RELEASE


def test_same_digest_writes_nothing() -> None:
    assert decide(env(), "1.0", D1, Current(D1, "1.0"), MANUAL).action is Action.SKIP


def test_a_digest_released_before_is_not_released_again() -> None:
    d = decide(env(), "1.0", D1, Current(D2, "1.1", released={D1, D2}), MANUAL)
    assert d.action is Action.SKIP and "promote" in d.reason


def test_lower_semver_is_refused_only_with_a_semver_filter() -> None:
    ranged = env(semver=">=1.0.0")
    assert decide(ranged, "1.2.0", D3, Current(D2, "1.3.0"), MANUAL).action is Action.SKIP
    assert decide(ranged, "1.4.0", D3, Current(D2, "1.3.0"), MANUAL).action is Action.RELEASE
    assert decide(env(), "1.2.0", D3, Current(D2, "1.3.0"), MANUAL).action is Action.RELEASE


def test_tag_filters() -> None:
    pattern = env(tagPattern=r"v\d+\.\d+\.\d+")
    assert decide(pattern, "v1.2.3", D2, Current(None, None), MANUAL).action is Action.RELEASE
    assert decide(pattern, "v1.2.3-dirty", D2, Current(None, None), MANUAL).action is Action.SKIP
    ranged = env(semver="^2")
    assert decide(ranged, "latest", D2, Current(None, None), MANUAL).action is Action.SKIP
    assert decide(ranged, "1.9.0", D2, Current(None, None), MANUAL).action is Action.SKIP


def test_manual_holds_as_pending() -> None:
    assert decide(env("manual"), "1.0", D2, Current(D1, None), MANUAL).action is Action.PENDING
    prod = env(None, environment="prod")
    assert decide(prod, "1.0", D2, Current(D1, None), MANUAL).action is Action.PENDING
    assert decide(env(None, "staging"), "1.0", D2, Current(D1, None), MANUAL).action is Action.RELEASE
    # Still never backwards: the current digest is not pending again.
    assert decide(prod, "1.0", D1, Current(D1, None), MANUAL).action is Action.SKIP
