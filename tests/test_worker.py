"""The worker in-process: events -> records -> one GitOps commit; poison inputs are isolated."""

from __future__ import annotations

import json
from pathlib import Path

from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.support import base_config, pr_payload, remote_files, remote_log


def service(tmp: Path, bare: Path) -> Service:
    return build_service(parse_config(base_config(tmp, bare), {"PREVIEWD_WEBHOOK_SECRET": "s"}))


def deliver(svc: Service, delivery: str, payload: dict[str, object]) -> None:
    assert svc.store.add_event("github", delivery, "pull_request", json.dumps(payload).encode())


def test_many_events_become_one_commit(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    for n in range(1, 6):
        deliver(svc, f"d{n}", pr_payload(number=n, sha=f"{n:040x}"))
    svc.worker.step()
    assert remote_log(bare) == ["previewd: 5 preview changes"]
    assert len({k.split("/")[3] for k in remote_files(bare, "previews")}) == 5


def test_bad_head_sha_fails_that_preview_only(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    deliver(svc, "bad", pr_payload(number=1, sha="$(reboot)"))
    deliver(svc, "good", pr_payload(number=2, sha="b" * 40))
    svc.worker.step()
    assert remote_log(bare) == [f"preview(acme/shop#2): create at {'b' * 7}"]
    states = {p.number: p.state.value for p in svc.store.list_previews()}
    assert states == {1: "failed", 2: "deploying"}


def test_malformed_payload_is_rejected_not_retried_forever(tmp_path: Path, bare: Path) -> None:
    svc = service(tmp_path, bare)
    svc.store.add_event("github", "broken", "pull_request", b'{"action": "opened"}')
    svc.worker.step()
    assert svc.store.pending_events() == []
    assert remote_log(bare) == []


def test_one_unresolvable_preview_does_not_stall_the_others(tmp_path: Path, bare: Path) -> None:
    from tests.fakes import FakeFlakyResolver

    svc = service(tmp_path, bare)
    resolver = FakeFlakyResolver({1})
    svc.ctx.images = resolver  # type: ignore[assignment]
    deliver(svc, "a", pr_payload(number=1, sha="a" * 40))
    deliver(svc, "b", pr_payload(number=2, sha="b" * 40))
    svc.worker.step()
    assert remote_log(bare) == [f"preview(acme/shop#2): create at {'b' * 7}"]
    resolver.failing.clear()
    svc.worker.step()
    assert remote_log(bare)[0] == f"preview(acme/shop#1): create at {'a' * 7}"
