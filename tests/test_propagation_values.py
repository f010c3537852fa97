"""The canary value, the W3C baggage member and the context: unit and property tests, and the
package's promise to import nothing of the previewd server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.propagation import MAX_DIGITS, canary_value, current, use
from previewd.propagation.baggage import MAX_BAGGAGE_BYTES, MAX_MEMBERS, parse, read_pr, with_pr, without_pr
from previewd.propagation.value import header_name

TOKEN = st.from_regex(r"[A-Za-z0-9!#$&'*+.^_`|~-]{1,16}", fullmatch=True)
OWS = st.sampled_from(["", " ", "\t", " \t "])


# -- the value -------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("42", "42"), ("0", "0"), ("1234567890", "1234567890"), (" 7\t", "7"), (b"42", "42"),
    ("12345678901", None), ("", None), ("42; drop", None), ("../", None), ("4 2", None), ("-1", None),
    ("４２", None), ("٤٢", None), ("42\n", None), (b"42\xc3\xa9", None), (None, None), ("0x2a", None),
])
def test_only_one_to_ten_ascii_digits_are_a_value(raw: str | bytes | None, expected: str | None) -> None:
    assert canary_value(raw) == expected


@given(st.text())
def test_whatever_the_text_a_value_is_ascii_digits(text: str) -> None:
    value = canary_value(text)
    assert value is None or (value.isascii() and value.isdigit() and 1 <= len(value) <= MAX_DIGITS)
    assert (value is not None) == (text.strip(" \t").isascii() and text.strip(" \t").isdigit()
                                   and len(text.strip(" \t")) <= MAX_DIGITS)


@given(st.from_regex(rf"[0-9]{{1,{MAX_DIGITS}}}", fullmatch=True), OWS, OWS)
def test_every_pr_number_is_accepted_as_is(digits: str, before: str, after: str) -> None:
    assert canary_value(before + digits + after) == digits


def test_use_sets_and_restores_the_current_value() -> None:
    assert current() is None
    with use("42") as value:
        assert value == current() == "42"
        with use(7):
            assert current() == "7"
        with use(None):
            assert current() is None
        assert current() == "42"
    assert current() is None


@pytest.mark.parametrize("bad", ["42; drop", " 42", "12345678901", "", -1])
def test_use_refuses_what_is_not_a_value(bad: str | int) -> None:
    with pytest.raises(ValueError, match="not a canary value"), use(bad):
        pass
    with pytest.raises(TypeError), use(True):
        pass


def test_threads_do_not_share_the_value() -> None:
    seen: list[str | None] = []
    with use("42"):
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
    assert seen == [None]


@pytest.mark.parametrize("name", ["", "X Canary", "X-Canary:", "baggage", "x" * 65, "X-Çanary"])
def test_a_header_name_is_a_token(name: str) -> None:
    with pytest.raises(ValueError):
        header_name(name)


# -- baggage ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "expected"), [
    (["previewd-pr=42"], "42"),
    (["a=1, previewd-pr = 42 ;ttl=5;flag , b=2"], "42"),  # OWS, properties
    (["a=1", "previewd-pr=42"], "42"),  # several headers are one list
    (["previewd-pr=%34%32"], "42"),  # percent-decoded
    (["bad key=1,=x,previewd-pr=42"], "42"),  # malformed members are skipped
    (["previewd-pr=42,previewd-pr=42"], None),  # twice: ambiguous
    (["previewd-pr=4 2"], None), (["previewd-pr=\"42\""], None), (["previewd-pr=42;bad prop"], None),
    (["previewd-pr=%34%32%3B"], None),  # decodes to "42;"
    (["previewd-pr=%ff"], None),  # not UTF-8: U+FFFD, not a value
    (["Previewd-PR=42"], None),  # keys are case-sensitive
    (["previewd-pr=12345678901"], None), (["previewd-pr="], None), ([], None), ([""], None),
    ([f"a={'x' * MAX_BAGGAGE_BYTES},previewd-pr=42"], None),  # over the size limit: not read
    ([",".join(f"k{i}=v" for i in range(MAX_MEMBERS)) + ",previewd-pr=42"], None),  # member 65
    ([",".join(f"k{i}=v" for i in range(MAX_MEMBERS - 1)) + ",previewd-pr=42"], "42"),  # member 64
])
def test_the_baggage_member(headers: list[str], expected: str | None) -> None:
    assert read_pr(headers) == expected


MEMBER = st.tuples(TOKEN, st.text(max_size=20), st.lists(TOKEN, max_size=2), OWS, OWS)


@given(st.lists(MEMBER, max_size=12))
def test_baggage_round_trips(members: list[tuple[str, str, list[str], str, str]]) -> None:
    text = ",".join(f"{o1}{k}{o2}={o1}{quote(v, safe='')}{''.join(f';{p}' for p in props)}{o2}"
                    for k, v, props, o1, o2 in members)
    assert [(m.key, m.value, m.properties) for m in parse(text)] == [(k, v, tuple(p)) for k, v, p, *_ in members]


@given(st.lists(st.text(max_size=40), max_size=4), st.from_regex(r"[0-9]{1,10}", fullmatch=True))
def test_with_pr_replaces_ours_and_keeps_the_rest(headers: list[str], value: str) -> None:
    merged = with_pr(headers, value)
    others = without_pr(headers)
    assert read_pr([merged]) == value or len(merged.encode()) > MAX_BAGGAGE_BYTES - 40
    assert merged.startswith(others)
    assert read_pr([without_pr(headers)]) is None


@given(st.lists(st.text(), max_size=4))
def test_the_parser_never_fails(headers: list[str]) -> None:
    value = read_pr(headers)
    assert value is None or canary_value(value) == value


def test_without_pr_keeps_only_the_accepted_value() -> None:
    assert without_pr(["a=1,previewd-pr=42;p, b", "previewd-pr=7"], keep="42") == "a=1,previewd-pr=42;p,b"
    assert without_pr(["a=1,previewd-pr=42"]) == "a=1"


def test_with_pr_gives_way_to_a_full_baggage() -> None:
    full = [",".join(f"k{i}=v" for i in range(MAX_MEMBERS))]
    assert with_pr(full, "42") == full[0]
    assert with_pr(["previewd-pr=1,a=2"], "42") == "a=2,previewd-pr=42"


# -- imports ---------------------------------------------------------------------------------

SERVER_DEPS = ["fastapi", "starlette", "sqlalchemy", "githubkit", "pydantic", "uvicorn", "click", "yaml",
               "ruamel", "psycopg", "jsonschema", "prometheus_client", "previewd.cli", "previewd.http",
               "previewd.core", "previewd.adapters", "previewd.settings"]
THIRD_PARTY = ["httpx", "requests", "grpc"]
BLOCKER = """
import importlib.abc, json, sys
blocked = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ImportError(f"blocked: {{name}}")
sys.meta_path.insert(0, Block())
import {module}
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(("module", "allowed"), [
    ("previewd.propagation", []),
    ("previewd.propagation.asgi", []),
    ("previewd.propagation.wsgi", []),
    ("previewd.propagation.httpx", ["httpx"]),
    ("previewd.propagation.requests", ["requests"]),
    ("previewd.propagation.grpc", ["grpc"]),
])
def test_importable_without_the_server(module: str, allowed: list[str]) -> None:
    blocked = SERVER_DEPS + [m for m in THIRD_PARTY if m not in allowed]
    run = subprocess.run([sys.executable, "-c", BLOCKER.format(blocked=blocked, module=module)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    loaded = json.loads(run.stdout)
    assert not [m for m in loaded for b in blocked if m == b or m.startswith(b + ".")]
    assert all(m in loaded for m in allowed)


def test_the_integration_modules_import_the_real_libraries() -> None:
    import grpc
    import httpx
    import requests

    import previewd.propagation.grpc as for_grpc
    import previewd.propagation.httpx as for_httpx
    import previewd.propagation.requests as for_requests

    assert (for_httpx.httpx, for_requests.requests, for_grpc.grpc) == (httpx, requests, grpc)
