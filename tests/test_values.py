"""Values from outside: PR numbers, timestamps, texts, delivery ids, annotation bounds, and the
mass-teardown count. Property tests (hypothesis) for every validator."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.core.events import parse_pull_request_event, pull_request_from_api
from previewd.core.limits import (
    MAX_ANNOTATION_VALUE_CHARS,
    MAX_CLOCK_SKEW,
    MAX_DELIVERY_ID_CHARS,
    MAX_EVENT_ACTION_CHARS,
    MAX_LABEL_NAME_CHARS,
    PR_NUMBER_MAX,
)
from previewd.core.models import PreviewState
from previewd.core.render.preview import PreviewInput, checked_annotations, names_for, render_preview
from previewd.core.teardown import causes_teardown, plan_teardowns
from previewd.core.values import (
    is_delivery_id,
    is_far_future,
    normal_timestamp,
    parse_timestamp,
    printable,
    printable_tree,
    text_problem,
)
from previewd.errors import PermanentError, TransientError
from previewd.jobs.intake import ROUTES
from previewd.settings import parse_config
from tests.support import SECRET, base_config, make_preview, pr_payload

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
PAYLOAD = pr_payload(updated_at="2026-05-01T00:00:00Z")


def with_pr(**fields: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    payload["pull_request"].update(fields)
    return payload


def without(path: str) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    *parents, last = path.split(".")
    holder = payload["pull_request"]
    for key in parents:
        holder = holder[key]
    del holder[last]
    return payload


# -- timestamps ----------------------------------------------------------------------------


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.just(UTC)))
def test_every_rfc3339_time_parses_back_to_itself(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") if moment.year >= 1000 else moment.isoformat()[:19]
    assert parse_timestamp(text + "Z") == moment
    assert parse_timestamp(moment.isoformat()) == moment  # "+00:00"
    shifted = (moment + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00"
    assert normal_timestamp(shifted) == normal_timestamp(text + "Z")


@given(st.text(max_size=60))
def test_anything_else_is_refused_or_parses_strictly(text: str) -> None:
    try:
        parsed = parse_timestamp(text)
    except ValueError:
        return
    assert parsed.tzinfo is not None and len(text) >= 20 and text[4] == "-" and text[10] in "Tt"


@pytest.mark.parametrize("bad", ["9999-99-99", "2026-01-01", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00",
                                 "2026-01-01T25:00:00Z", "20260101T000000Z", "2026-01-01T00:00:00+24:00",
                                 "٢٠٢٦-01-01T00:00:00Z", "2026-01-01T00:00:00Z" + "0" * 40, ""])
def test_unparseable_timestamps_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(bad)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_future_timestamps_are_refused_beyond_the_skew(ahead: timedelta) -> None:
    text = normal_timestamp_of(NOW + ahead)
    if ahead.total_seconds() // 1 > MAX_CLOCK_SKEW.total_seconds():
        with pytest.raises(ValueError, match="future"):
            normal_timestamp(text, NOW)
        assert is_far_future(text, NOW)
    else:
        assert normal_timestamp(text, NOW) == text and not is_far_future(text, NOW)


def normal_timestamp_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.lists(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                             timezones=st.just(UTC)), min_size=2, max_size=2))
def test_stored_form_orders_as_time_does(moments: list[datetime]) -> None:
    a, b = (normal_timestamp(m.replace(microsecond=0).isoformat()) for m in moments)
    assert (a < b) == (moments[0].replace(microsecond=0) < moments[1].replace(microsecond=0))


# -- texts and ids -------------------------------------------------------------------------


@given(st.text(), st.integers(min_value=0, max_value=50))
def test_text_problem_is_none_exactly_for_storable_text(value: str, limit: int) -> None:
    storable = len(value) <= limit and "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    assert (text_problem(value, limit) is None) == storable


@given(st.text())
def test_printable_always_encodes_and_keeps_valid_text(value: str) -> None:
    shown = printable(value)
    shown.encode("utf-8")
    assert len(shown) == len(value)
    if text_problem(value, len(value)) is None or "\x00" in value:
        assert shown == value or "\x00" in value
    assert printable_tree({value: [value, 1, None]}) == {shown: [shown, 1, None]}


@given(st.text(max_size=MAX_DELIVERY_ID_CHARS + 20))
def test_delivery_ids_are_short_and_plain(value: str) -> None:
    if is_delivery_id(value):
        assert 1 <= len(value) <= MAX_DELIVERY_ID_CHARS and value.isascii() and value.isprintable()
        assert not any(c in value for c in " /\\\"'<>\x00")
    value.encode("utf-8", "replace")


def test_real_delivery_ids_are_accepted() -> None:
    assert is_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert is_delivery_id("e" * 64) and is_delivery_id("argocd-1") and is_delivery_id("gh-x.1:2")
    assert not is_delivery_id("x" * (MAX_DELIVERY_ID_CHARS + 1)) and not is_delivery_id("")
    assert not is_delivery_id("\ud800") and not is_delivery_id("a b")


# -- pull request payloads -----------------------------------------------------------------


@given(st.integers(min_value=-(2**63), max_value=2**63))
def test_pr_numbers_outside_1_to_2_31_minus_1_are_refused(number: int) -> None:
    payload = with_pr(number=number)
    if 1 <= number <= PR_NUMBER_MAX:
        assert parse_pull_request_event(payload, NOW)[1].number == number
    else:
        with pytest.raises(PermanentError, match="number"):
            parse_pull_request_event(payload, NOW)
        with pytest.raises(TransientError):
            pull_request_from_api(payload["pull_request"], NOW)


@pytest.mark.parametrize("field", ["labels", "draft", "head.repo", "head.sha", "user", "user.type",
                                   "user.login", "state", "number", "updated_at", "base"])
def test_a_missing_field_the_policy_reads_is_malformed_never_empty(field: str) -> None:
    with pytest.raises(PermanentError, match=field.split(".")[0]):
        parse_pull_request_event(without(field), NOW)
    with pytest.raises(TransientError, match="malformed"):
        pull_request_from_api(without(field)["pull_request"], NOW)


@pytest.mark.parametrize("fields", [
    {"number": True}, {"number": "42"}, {"draft": "false"}, {"labels": None}, {"labels": [{"name": ""}]},
    {"labels": [{"name": "x" * (MAX_LABEL_NAME_CHARS + 1)}]}, {"labels": [{"name": "a\ud800"}]},
    {"labels": [{"name": "p"}] * 101}, {"state": "merged"}, {"updated_at": "9999-99-99"},
    {"updated_at": "9999-12-31T00:00:00Z"}, {"created_at": "2026-01-01T00:00:00Z" * 200_000},
    {"head": {"sha": "\ud800", "repo": None}}, {"head": {"sha": "A" * 40, "repo": None}},
    {"base": {"sha": "a" * 39}},
    {"user": {"login": "x" * 101, "type": "User"}},
])
def test_bad_values_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(PermanentError):
        parse_pull_request_event(with_pr(**fields), NOW)


@pytest.mark.parametrize("action", ["", "Opened", "opened!", "a" * (MAX_EVENT_ACTION_CHARS + 1)])
def test_a_bad_action_is_refused(action: str) -> None:
    assert parse_pull_request_event({**with_pr(), "action": "a" * MAX_EVENT_ACTION_CHARS}, NOW)
    with pytest.raises(PermanentError, match="action"):
        parse_pull_request_event({**with_pr(), "action": action}, NOW)


def test_a_good_payload_is_stored_in_normal_form() -> None:
    action, pr = parse_pull_request_event(with_pr(created_at="2026-04-30T23:00:00-01:00",
                                                  updated_at="2026-05-01T02:00:00+02:00"), NOW)
    assert (action, pr.created_at, pr.updated_at) == ("opened", "2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert pr.labels == ("preview",) and pr.head_repo == "acme/shop"
    deleted_fork = with_pr(head={"sha": "a" * 40, "repo": None})
    assert parse_pull_request_event(deleted_fork, NOW)[1].is_fork  # null is a fact, absent is not
    assert ROUTES[("github", "issue_comment")].check is None  # other kinds are checked by their handlers


# -- rendering -----------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Any:
    return parse_config(base_config(tmp_path, tmp_path / "gitops.git"), {"PREVIEWD_WEBHOOK_SECRET": SECRET})


@pytest.mark.parametrize("number", [0, -1, 2**31, True])
def test_no_name_for_a_number_that_is_not_a_pr_number(config: Any, number: int) -> None:
    with pytest.raises(ValueError, match="PR number"):
        names_for(config, config.repositories[0], number)
    with pytest.raises(ValueError, match="PR number"):
        render_preview(config, config.repositories[0], PreviewInput("acme/shop", number, "a" * 40))


def test_minus_one_and_one_never_share_names(config: Any) -> None:
    one = names_for(config, config.repositories[0], 1)
    assert one.namespace == "pr-1-shop"
    with pytest.raises(ValueError):
        names_for(config, config.repositories[0], -1)


def test_created_at_reaches_the_annotation_only_as_a_timestamp(config: Any) -> None:
    repo = config.repositories[0]
    files = render_preview(config, repo, PreviewInput("acme/shop", 7, "a" * 40, "2026-01-01T01:00:00+01:00"))
    assert b"previewd.io/created-at: '2026-01-01T00:00:00Z'" in files["baseline/namespace.yaml"]
    with pytest.raises(ValueError, match="created_at"):
        render_preview(config, repo, PreviewInput("acme/shop", 7, "a" * 40, "x" * 4_000_000))


@given(st.dictionaries(st.sampled_from(["a/x", "a/y", "a/z"]), st.text(max_size=MAX_ANNOTATION_VALUE_CHARS + 5)))
def test_annotations_are_bounded(annotations: dict[str, str]) -> None:
    try:
        checked_annotations(annotations)
    except ValueError:
        assert any(text_problem(v, MAX_ANNOTATION_VALUE_CHARS) for v in annotations.values())
        return
    assert all(len(v) <= MAX_ANNOTATION_VALUE_CHARS for v in annotations.values())


# -- the mass-teardown count ---------------------------------------------------------------


@given(st.sampled_from(list(PreviewState)), st.sampled_from(list(PreviewState)))
def test_causes_teardown_counts_every_new_deletion(before: PreviewState, after: PreviewState) -> None:
    counted = causes_teardown(make_preview(state=before), make_preview(state=after))
    assert counted == (after == PreviewState.DELETING and before != PreviewState.DELETING)
    assert causes_teardown(None, make_preview(state=PreviewState.DELETING))
    assert not causes_teardown(make_preview(), None)


@given(st.sets(st.tuples(st.sampled_from(["a/b", "c/d"]), st.integers(1, 50))), st.integers(0, 20))
def test_plan_is_all_or_none(teardowns: set[tuple[str, int]], limit: int) -> None:
    plan = plan_teardowns(teardowns, limit)
    if len(teardowns) > limit:
        assert plan.blocked and plan.teardown == () and str(len(teardowns)) in plan.reason
    else:
        assert not plan.blocked and set(plan.teardown) == teardowns
