"""Names are valid DNS labels, bounded, stable and free of PR text (property tests)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from previewd import naming

owners = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}", fullmatch=True)
repos = st.from_regex(r"[A-Za-z0-9._-]{1,100}", fullmatch=True)
numbers = st.integers(min_value=1, max_value=2**31 - 1)
templates = st.sampled_from(
    ["pr-{number}-{repo}", "pr-{number}", "preview-{owner}-{repo}-{number}", "pr-{repo}-{number}"]
)


@given(owners, repos, numbers, templates)
def test_namespace_is_a_bounded_dns_label(owner: str, repo: str, number: int, template: str) -> None:
    name = naming.namespace_name(template, f"{owner}/{repo}", number)
    assert naming.is_dns_label(name), name
    assert len(name) <= 63
    assert name == naming.namespace_name(template, f"{owner}/{repo}", number)  # stable
    assert name.startswith(naming.literal_prefix(template))


@given(owners, repos, numbers, numbers)
def test_distinct_numbers_give_distinct_names(owner: str, repo: str, a: int, b: int) -> None:
    full = f"{owner}/{repo}"
    if a != b:
        assert naming.namespace_name("pr-{number}-{repo}", full, a) != naming.namespace_name(
            "pr-{number}-{repo}", full, b
        )


@given(owners, repos, numbers)
def test_host_labels_are_valid(owner: str, repo: str, number: int) -> None:
    host = naming.host_name("{repo}-pr-{number}.preview.example.com", f"{owner}/{repo}", number)
    assert all(naming.is_dns_label(label) for label in host.split("."))


@given(owners, repos)
def test_repo_label_value_is_a_valid_label_value(owner: str, repo: str) -> None:
    value = naming.repo_label_value(f"{owner}/{repo}")
    assert len(value) <= 63
    assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value), value


def test_long_names_get_a_stable_hash_suffix() -> None:
    repo = "acme/" + "a-very-long-repository-name" * 4
    name = naming.namespace_name("pr-{number}-{repo}", repo, 123456)
    assert len(name) == 63 and naming.is_dns_label(name)
    full = "pr-123456-" + naming.sanitize(repo.split("/")[1])
    assert name == full[:54] + "-" + naming.stable_hash(full)


def test_preview_dir_is_lower_case_and_fixed() -> None:
    assert naming.preview_dir("previews", "Acme/Shop", 42) == "previews/acme/shop/pr-42"


@given(owners, repos, owners, repos)
def test_collision_check_agrees_with_brute_force(o1: str, r1: str, o2: str, r2: str) -> None:
    a, b = f"{o1}/{r1}", f"{o2}/{r2}"
    if a.lower() == b.lower():
        return
    template = "pr{number}{repo}"
    clash = naming.find_name_collision(template, [a, b])
    names_a = {naming.namespace_name(template, a, n) for n in range(1, 300)}
    names_b = {naming.namespace_name(template, b, n) for n in range(1, 300)}
    if names_a & names_b:
        assert clash is not None  # brute force found one: the check must too
