"""Repository normalisation and the exactly-one-match index (properties with hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.releases.matching import (
    CASE_FOLDING_REGISTRIES,
    Index,
    Repository,
    RepositoryError,
    normalise,
)

component = st.from_regex(r"[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
path = st.lists(component, min_size=1, max_size=4).map("/".join)
label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
host = st.lists(label, min_size=2, max_size=4).map(".".join)
hub = st.sampled_from(["docker.io", "index.docker.io", "registry-1.docker.io", "DOCKER.IO"])


def flip_case(text: str, mask: list[bool]) -> str:
    return "".join(c.upper() if m else c for c, m in zip(text, mask + [False] * len(text),
                                                         strict=False))


@given(host, path)
def test_normalise_is_idempotent(h: str, p: str) -> None:
    once = normalise(f"{h}/{p}")
    assert normalise(str(once)) == once


@given(host, path, st.lists(st.booleans(), max_size=40))
def test_host_case_and_default_port_do_not_matter(h: str, p: str, mask: list[bool]) -> None:
    base = normalise(f"{h}/{p}")
    assert normalise(f"{flip_case(h, mask)}/{p}") == base
    assert normalise(f"{h}:443/{p}") == base
    assert normalise(f"{h}:80/{p}") == base
    assert normalise(f"{h}:5000/{p}") != base


@given(hub, path)
def test_docker_hub_aliases_are_one_registry(alias: str, p: str) -> None:
    expected = normalise(f"docker.io/{p}")
    assert normalise(f"{alias}/{p}") == expected
    if "." not in p.split("/")[0] and len(p.split("/")) > 1:
        assert normalise(p) == expected  # no host at all means Docker Hub


@given(component)
def test_official_images_live_in_library(name: str) -> None:
    expected = Repository("docker.io", f"library/{name}")
    assert normalise(name) == expected
    assert normalise(f"docker.io/{name}") == expected
    assert normalise(f"index.docker.io/library/{name}") == expected


@given(host, path, st.lists(st.booleans(), max_size=40))
def test_path_case_is_kept_unless_the_registry_folds_it(h: str, p: str, mask: list[bool]) -> None:
    upper = flip_case(p, mask)
    assert normalise(f"ghcr.io/{upper}") == normalise(f"ghcr.io/{p}")
    if upper != p and normalise(f"{h}/x").host not in CASE_FOLDING_REGISTRIES:
        assert normalise(f"{h}/{upper}") != normalise(f"{h}/{p}")


def test_examples() -> None:
    assert normalise("Harbor.Example.TLD:443/team-a/app1/dev") == Repository(
        "harbor.example.tld", "team-a/app1/dev")
    assert normalise("localhost:5000/x") == Repository("localhost:5000", "x")
    assert normalise("nginx") == Repository("docker.io", "library/nginx")
    assert normalise("bitnami/redis") == Repository("docker.io", "bitnami/redis")
    assert str(normalise("registry-1.docker.io/Bitnami/Redis")) == "docker.io/bitnami/redis"


@pytest.mark.parametrize("bad", ["", "https://h.io/a", "h.io/a:1", "h.io/a@sha256:00", "h.io/",
                                 "h.io/a//b", "h.io/-a", "h_io:x/a"])
def test_rejects_non_repositories(bad: str) -> None:
    with pytest.raises(RepositoryError):
        normalise(bad)


@given(st.lists(st.tuples(st.sampled_from(["h.io/a", "H.IO:443/a", "h.io/b", "nginx",
                                           "docker.io/library/nginx", "h.io:5000/a"]),
                          st.integers(0, 5)), max_size=30),
       st.sampled_from(["h.io/a", "h.io/b", "library/nginx", "h.io:5000/a", "h.io/c"]))
def test_index_matches_exactly_what_a_linear_scan_finds(
        claims: list[tuple[str, int]], pushed: str) -> None:
    index = Index.build((normalise(r), n) for r, n in claims)
    wanted = normalise(pushed)
    expected = tuple(n for r, n in claims if normalise(r) == wanted)
    match = index.match(wanted)
    assert match.claims == expected
    assert match.unique == (expected[0] if len(expected) == 1 else None)
    assert match.conflict == (len(expected) > 1)
    assert len(index) == len(claims)
    assert {m.repository for m in index.conflicts()} == {
        normalise(r) for r, _ in claims if sum(normalise(x) == normalise(r) for x, _ in claims) > 1}
