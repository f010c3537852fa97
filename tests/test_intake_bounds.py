"""The intake's bounds as units: JSON depth measured without parsing, the rate-limited
rejection log."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.http.bodies import json_depth
from previewd.http.limits import MAX_LOGGED_REASON
from previewd.http.rejections import RejectionLog

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n\u00ff', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text('[]{}"\\a', max_size=4), inner,
                                                                max_size=3),
    max_leaves=30,
)


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@given(json_values, st.booleans())
def test_json_depth_is_the_nesting_whatever_the_strings_hold(value: object, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only, indent=1 if ascii_only else None).encode()
    assert json_depth(body) == depth(value)


def test_json_depth_never_undercounts_broken_json() -> None:
    assert json_depth(b'"unterminated [[[') == 3
    assert json_depth(b"[" * 60_000) == 60_000
    assert json_depth(b'["\\"", [[]]]') == 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rejections_are_rate_limited_per_kind_and_the_rest_counted(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = RejectionLog(clock=clock, burst=2, interval=60.0)
    with caplog.at_level(logging.WARNING, logger="previewd.webhooks"):
        for n in range(5):
            log.refused("github", 401, "bad signature", f"d{n}")
        log.refused("github", 413, "too big", "big")  # another kind has its own budget
        clock.now = 61.0
        log.refused("github", 401, "bad signature", "d5")
    assert [r.getMessage() for r in caplog.records] == [
        "refused github webhook: 401 bad signature (delivery d0)",
        "refused github webhook: 401 bad signature (delivery d1)",
        "refused github webhook: 413 too big (delivery big)",
        "refused github webhook: 401 bad signature (delivery d5) (3 more github 401 refusals were not logged)",
    ]


def test_logged_reasons_and_ids_are_printable_and_bounded(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="previewd.webhooks"):
        RejectionLog().refused("argocd", 400, "line\nbreak\x1b[31m" + "r" * 1000, "id with spaces\r\n")
    (line,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in line and "\x1b" not in line and "\r" not in line
    assert "line?break?[31m" in line and "(delivery id?with?spaces??)" in line
    assert len(line) < MAX_LOGGED_REASON + 100
