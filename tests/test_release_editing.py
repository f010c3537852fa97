"""release.yaml is edited in place: only the release keys change, the rest survives."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from previewd.releases.contract import parse_app_env, parse_release
from previewd.releases.editing import (
    RELEASE_KEYS,
    EditError,
    NewRelease,
    current_image,
    edit_release,
    skeleton,
)
from tests.release_support import SEED_RELEASE, seed_app_env

DIGEST = "sha256:" + "a" * 64
NEW = NewRelease("harbor.example.tld/team-a/app1/dev", "1.0", DIGEST, "2026-01-01T00:00:00Z",
                 "platform-release-controller")


def without_release_keys(doc: dict[str, Any]) -> dict[str, Any]:
    for path in RELEASE_KEYS:
        holder = doc
        for key in path[:-1]:
            holder = holder.get(key, {})
        holder.pop(path[-1], None)
    return doc


def test_only_release_lines_change_and_comments_survive() -> None:
    before = SEED_RELEASE.read_text()
    after = edit_release(before, NEW)
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
               if line.startswith(("- ", "+ "))]
    assert sorted(changed) == sorted([
        '-     tag: "2025.12.29-1342"          # Optional if digest present',
        '-     digest: "sha256:..."            # Preferred immutable reference',
        '+     tag: "1.0"                      # Optional if digest present',
        f'+     digest: "{DIGEST}" # Preferred immutable reference',
        '-   observedAt: "2025-12-29T13:42:10Z"',
        '+   observedAt: "2026-01-01T00:00:00Z"',
    ])
    assert "# effective ref = repo@digest (or repo:tag if digest missing)" in after
    release = parse_release(yaml.safe_load(after))
    assert release.spec.image.pinned == f"{NEW.repository}@{DIGEST}"
    assert without_release_keys(yaml.safe_load(after)) == without_release_keys(
        yaml.safe_load(before))


def test_editing_twice_is_stable() -> None:
    once = edit_release(SEED_RELEASE.read_text(), NEW)
    assert edit_release(once, NEW) == once


def test_tag_that_looks_like_a_number_stays_a_string() -> None:
    text = "spec:\n  image:\n    repository: h.io/a\n    tag: latest\n"
    out = edit_release(text, NewRelease("h.io/a", "1.10", DIGEST, "2026-01-01T00:00:00Z", "x"))
    assert yaml.safe_load(out)["spec"]["image"]["tag"] == "1.10"


def test_digest_only_release_removes_the_tag() -> None:
    out = edit_release(SEED_RELEASE.read_text(),
                       NewRelease(NEW.repository, None, DIGEST, NEW.observed_at, NEW.observed_by))
    assert current_image(out) == (None, DIGEST)
    assert "# Preferred immutable reference" in out


def test_skeleton_becomes_a_valid_release() -> None:
    env = parse_app_env(seed_app_env())
    out = edit_release(skeleton(env), NEW)
    release = parse_release(yaml.safe_load(out))
    assert release.metadata.app == "app1" and release.spec.image.digest == DIGEST


@pytest.mark.parametrize("text", ["- a\n- b\n", "spec: [1]\n", "spec:\n  image: 3\n", "a: [\n"])
def test_refuses_what_it_cannot_edit(text: str) -> None:
    with pytest.raises(EditError):
        edit_release(text, NEW)


@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True))
def test_any_tag_round_trips(tag: str) -> None:
    out = edit_release(SEED_RELEASE.read_text(),
                       NewRelease(NEW.repository, tag, DIGEST, NEW.observed_at, NEW.observed_by))
    assert current_image(out) == (tag, DIGEST)
