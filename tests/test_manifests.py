"""Every manifest previewd commits is checked first; one bad preview never blocks the others."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from previewd.core.manifests import MAX_ANNOTATIONS_BYTES, ManifestError, check_directory, check_file
from previewd.runtime.service import build_service
from previewd.settings import parse_config
from tests.support import base_config, make_pr, make_preview, remote_files, remote_log


def configmap(name: str = "cm", annotations: str = "{}") -> bytes:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations: {annotations}\n".encode()


@pytest.mark.parametrize("content, why", [
    (b"a: [1\n", "not valid YAML"),
    (b"a: 1\n", "apiVersion is missing"),
    (b"- 1\n", "not a mapping"),
    (b"", "no Kubernetes object"),
    (configmap("Bad_Name"), "not a valid object name"),
    (configmap("x" * 254), "not a valid object name"),
    (configmap(annotations="{a: 1}"), "map strings to strings"),
    (configmap(annotations="{a: '" + "x" * MAX_ANNOTATIONS_BYTES + "'}"), "exceed"),
    (configmap() + b"---\nkind: Service\n", "document 2: apiVersion is missing"),
])
def test_what_kubernetes_would_reject_is_refused_with_the_reason(content: bytes, why: str) -> None:
    with pytest.raises(ManifestError, match=why):
        check_file("d/f.yaml", content)


def test_valid_objects_and_non_yaml_files_pass() -> None:
    check_directory("d", {"a.yaml": configmap() + b"---\n" + configmap("b"), "README": b"not: [yaml"})


SCALARS = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.sampled_from(["v1", "cm", "Bad_Name", ""]))
FIELDS = st.fixed_dictionaries({}, optional={
    "apiVersion": SCALARS, "kind": SCALARS,
    "metadata": st.one_of(SCALARS, st.fixed_dictionaries({}, optional={
        "name": SCALARS,
        "annotations": st.one_of(SCALARS, st.dictionaries(st.text(max_size=4), SCALARS, max_size=3))})),
})


@given(st.one_of(st.binary(max_size=100), st.lists(st.one_of(FIELDS, SCALARS), max_size=3).map(
    lambda docs: yaml.safe_dump_all(docs).encode())))
def test_accepted_files_hold_only_named_objects_and_nothing_else_raises(content: bytes) -> None:
    try:
        check_file("d/f.yaml", content)
    except ManifestError:
        return  # the only way a file is refused
    docs = [d for d in yaml.safe_load_all(content) if d is not None]
    assert docs
    for doc in docs:
        assert isinstance(doc["apiVersion"], str) and isinstance(doc["kind"], str) and doc["kind"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", doc["metadata"]["name"])


def test_a_preview_whose_render_would_be_rejected_fails_alone(tmp_path: Path, bare: Path) -> None:
    svc = build_service(parse_config(base_config(tmp_path, bare), {"PREVIEWD_WEBHOOK_SECRET": "s"}))
    huge = "2026-01-01T00:00:00Z" + " " * MAX_ANNOTATIONS_BYTES  # a record older checks let in
    with svc.store.transaction() as conn:
        for n, created in ((1, huge), (2, "2026-01-01T00:00:00Z")):
            preview = make_preview(number=n, pr=make_pr(number=n, head_sha=f"{n:040x}", created_at=created))
            svc.store.put_preview(conn, replace(preview, generation=1))
    svc.worker.converge_once()
    states = {p.number: (p.state.value, p.extra.get("render_error")) for p in svc.store.list_previews()}
    assert states[1][0] == "failed" and any(why in states[1][1] for why in ("annotations exceed", "created_at"))
    assert states[2] == ("deploying", None)
    assert remote_log(bare) == [f"preview(acme/shop#2): create at {f'{2:040x}'[:7]}"]
    assert not [k for k in remote_files(bare) if "/pr-1/" in k]
