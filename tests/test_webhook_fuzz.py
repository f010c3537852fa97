"""Any signed body gets a clear answer (200, 202 or 400), never a server error; a worker pass
over whatever was accepted never crashes (property tests)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from previewd.http.app import create_app
from previewd.runtime.service import build_service
from previewd.settings import parse_config
from tests.support import SECRET, base_config, github_headers, make_bare, pr_payload

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def make_client(tmp: Path) -> tuple[TestClient, object]:
    bare = make_bare(tmp / "gitops.git")
    config = parse_config(base_config(tmp, bare), {"PREVIEWD_WEBHOOK_SECRET": SECRET})
    service = build_service(config)
    return TestClient(create_app(service, run_worker=False)), service


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
       event=st.sampled_from(["pull_request", "issue_comment", "package", "ping", "push", "weird"]))
def test_signed_garbage_never_breaks_intake(tmp_path_factory: object, body: bytes, event: str) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    client, service = make_client(tmp)
    response = client.post("/hooks/github", content=body, headers=github_headers(event, body))
    assert response.status_code in (200, 202, 400), response.text
    service.worker.step()  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pr=st.dictionaries(
    st.sampled_from(["number", "state", "merged", "draft", "labels", "head", "user", "updated_at"]),
    json_values, max_size=4))
def test_mangled_pull_requests_are_rejected_cleanly(tmp_path_factory: object, pr: dict[str, object]) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    client, service = make_client(tmp)
    payload = pr_payload()
    payload["pull_request"].update(pr)
    body = json.dumps(payload).encode()
    response = client.post("/hooks/github", content=body, headers=github_headers("pull_request", body))
    assert response.status_code in (200, 202, 400)
    service.worker.step()  # type: ignore[attr-defined]
    assert service.store.pending_events() == []  # type: ignore[attr-defined]
