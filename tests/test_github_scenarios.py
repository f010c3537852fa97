"""GitHub integration scenarios against FakeGitHub, in process, one worker pass at a time:
sticky comment, Deployment statuses, commit status, resync repair, safe teardown, ChatOps,
bundle check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from previewd.core.feedback import marker
from previewd.core.models import PreviewState
from previewd.jobs import feedback
from previewd.jobs.resync import ResyncStatus, resync
from previewd.runtime.service import Service, build_service
from previewd.settings import parse_config
from tests.fakes import FakeGitHub
from tests.github_support import (
    BAD_BUNDLE,
    CLEAN_BUNDLE,
    argocd_event,
    comment_event,
    env,
    github_config,
    resync_now,
    runtime,
    service_for,
    settle,
    step,
)
from tests.support import REPO, remote_files, remote_log

SHA1, SHA2 = "1" * 40, "2" * 40
PREFIX = "previews/acme/shop/pr-42"


@pytest.fixture
def service(tmp_path: Path, bare: Path, fake: FakeGitHub) -> Iterator[Service]:
    svc = service_for(tmp_path, bare, fake)
    yield svc
    svc.store.close()


def preview_state(service: Service, number: int = 42) -> PreviewState:
    preview = service.store.get_preview(REPO, number)
    assert preview is not None
    return preview.state


def test_labelled_pr_comment_deployment_and_status_through_its_life(
        service: Service, fake: FakeGitHub, bare: Path) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    settle(service)  # webhooks play no part: the first resync finds the PR
    assert remote_log(bare) == [f"preview(acme/shop#42): create at {SHA1[:7]}"]
    (comment,) = fake.comments(REPO, 42)
    assert marker(REPO, 42) in comment["body"] and "**deploying**" in comment["body"]
    assert "`pr-42-shop`" in comment["body"] and SHA1[:12] in comment["body"]
    assert "https://argocd.example.com/applications/pr-42-shop" in comment["body"]

    argocd_event(service, "deployed", SHA1)
    settle(service)
    (comment,) = fake.comments(REPO, 42)  # edited in place, never a second one
    assert "**ready**" in comment["body"] and "https://shop-pr-42.preview.example.com" in comment["body"]
    assert comment["edits"] >= 1
    (deployment,) = fake.deployments(REPO)
    assert deployment["environment"] == "preview/pr-42" and deployment["ref"] == SHA1
    assert deployment["transient_environment"] is True and deployment["production_environment"] is False
    words = [re.search(r"\*\*([a-z ]+)\*\*", body).group(1) for body in comment["history"]]  # type: ignore[union-attr]
    # "waiting to be deployed", then "waiting for the deploy bundle check" while it runs off the worker
    assert words == ["waiting", "waiting", "deploying", "ready"]
    assert "bundle check" in comment["history"][1]
    assert fake.deployment_states(REPO, deployment["id"]) == ["in_progress", "success"]
    assert fake.deployment_statuses(REPO, deployment["id"])[-1]["environment_url"] == \
        "https://shop-pr-42.preview.example.com"
    statuses = fake.commit_statuses(REPO, SHA1)
    states = [s["state"] for s in statuses]
    assert states[-1] == "success" and set(states[:-1]) == {"pending"}
    assert statuses[-1]["target_url"] == "https://shop-pr-42.preview.example.com"
    assert {s["context"] for s in statuses} == {"previewd"}

    fake.close_pull(REPO, 42, updated_at="2026-01-02T00:00:00Z")
    resync_now(service)  # not in the open list any more: GET confirms closed
    settle(service)
    assert remote_files(bare, PREFIX) == {}
    assert preview_state(service) == PreviewState.TORN_DOWN
    (comment,) = fake.comments(REPO, 42)
    assert "**torn down**" in comment["body"]
    assert fake.deployment_states(REPO, deployment["id"]) == ["in_progress", "success", "inactive"]


def test_unchanged_resync_costs_no_rate_limit(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    settle(service)
    fake.reset_counts()
    resync_now(service)
    settle(service)
    assert fake.count("GET", "/pulls") == 1 and fake.counted == 0  # answered 304


def test_outage_during_resync_tears_nothing_down(service: Service, fake: FakeGitHub, bare: Path) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    settle(service)
    fake.repo(REPO)["pulls"].clear()  # an empty list ...
    fake.outage = True  # ... and then every GET fails
    resync_now(service)
    fake.outage = False
    fake.fail_next.append(("/pulls/42", 502, {}))  # the confirming GET fails too
    fake.fail_next.append(("/pulls/42", 502, {}))
    fake.fail_next.append(("/pulls/42", 502, {}))
    resync_now(service)
    assert preview_state(service) == PreviewState.DEPLOYING
    assert len(remote_log(bare)) == 1


def test_partial_list_with_open_pr_keeps_the_preview(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    settle(service)
    fake.unlisted.add(42)  # missing from the list, still open by GET
    resync_now(service)
    settle(service)
    assert preview_state(service) == PreviewState.DEPLOYING
    assert fake.count("GET", "/pulls/42") == 1


def test_mass_teardown_guard(tmp_path: Path, bare: Path, fake: FakeGitHub) -> None:
    service = service_for(tmp_path, bare, fake, max_teardowns_per_resync=2)
    for number in (1, 2, 3):
        sha = f"{number}" * 40
        fake.add_pull(REPO, number, sha)
        fake.add_tarball(REPO, sha, CLEAN_BUNDLE)
    settle(service)
    for number in (1, 2, 3):
        fake.close_pull(REPO, number, updated_at="2026-01-02T00:00:00Z")
    resync_now(service)
    settle(service)
    assert {preview_state(service, n) for n in (1, 2, 3)} == {PreviewState.DEPLOYING}
    status = runtime(service).status_json()["resync"]["mass_teardown_guard"]
    assert status["blocked"] is True and status["previews"] == ["acme/shop#1", "acme/shop#2", "acme/shop#3"]
    def guard() -> float | None:
        return service.metrics.registry.get_sample_value("previewd_mass_teardown_guard_blocked")

    assert guard() == 0  # reading the status sets no metric
    service.refresh_gauges()  # /metrics does
    assert guard() == 1
    fake.update_pull(REPO, 3, state="open", updated_at="2026-01-03T00:00:00Z")  # two closes: allowed
    resync_now(service)
    settle(service)
    assert [preview_state(service, n) for n in (1, 2, 3)] == \
        [PreviewState.TORN_DOWN, PreviewState.TORN_DOWN, PreviewState.DEPLOYING]
    assert runtime(service).status_json()["resync"]["mass_teardown_guard"]["blocked"] is False


def test_label_mode_unlabelled_pr_gets_no_comment(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1, labels=())
    fake.add_pull(REPO, 43, SHA2, labels=(), draft=True)
    settle(service)
    assert fake.comments(REPO, 42) == [] and fake.comments(REPO, 43) == []
    assert fake.count("POST") == 0


def test_labelled_draft_gets_why_not_comment(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1, draft=True)
    settle(service)
    (comment,) = fake.comments(REPO, 42)
    assert "**no preview**" in comment["body"] and "draft" in comment["body"]
    assert fake.deployments(REPO) == []


def test_preview_command_refused_for_reader_and_honoured_for_maintainer(
        service: Service, fake: FakeGitHub, bare: Path) -> None:
    fake.add_pull(REPO, 42, SHA1, labels=())
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    fake.set_permission(REPO, "reader", "read")
    fake.set_permission(REPO, "maint", "maintain")
    settle(service)
    comment_event(service, "/preview", "reader", comment_id=901)
    settle(service)
    assert fake.reactions(REPO, 901) == ["confused"]
    (refusal,) = fake.comments(REPO, 42)
    assert "@reader" in refusal["body"] and "write access" in refusal["body"]
    assert remote_log(bare) == []

    comment_event(service, "/preview", "maint", comment_id=902)
    settle(service)
    assert fake.reactions(REPO, 902) == ["+1"]
    assert remote_log(bare) == [f"preview(acme/shop#42): create at {SHA1[:7]}"]
    sticky = [c for c in fake.comments(REPO, 42) if marker(REPO, 42) in c["body"]]
    assert len(sticky) == 1 and "**deploying**" in sticky[0]["body"]

    comment_event(service, "/preview stop", "maint", comment_id=903)
    settle(service)
    assert preview_state(service) == PreviewState.TORN_DOWN
    assert "stopped" in next(c for c in fake.comments(REPO, 42) if marker(REPO, 42) in c["body"])["body"]


def test_non_commands_are_ignored(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1, labels=())
    fake.set_permission(REPO, "maint", "admin")
    settle(service)
    for text in ("/previewx", "please /preview", "/preview now", "/preview stop please"):
        comment_event(service, text, "maint")
    settle(service)
    assert fake.count("GET", "/permission") == 0 and fake.count("POST") == 0


def test_failing_bundle_is_not_deployed_and_findings_are_shown(
        service: Service, fake: FakeGitHub, bare: Path) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, BAD_BUNDLE)
    settle(service)
    assert remote_log(bare) == []
    assert preview_state(service) == PreviewState.FAILED
    (comment,) = fake.comments(REPO, 42)
    assert "**failed**" in comment["body"] and "no-namespace" in comment["body"]
    assert [s["state"] for s in fake.commit_statuses(REPO, SHA1)][-1] == "failure"


def test_failed_bundle_download_is_retried_never_passed(service: Service, fake: FakeGitHub, bare: Path) -> None:
    fake.add_pull(REPO, 42, SHA1)  # no tarball yet: the download 404s
    step(service, 3)
    assert remote_log(bare) == [] and preview_state(service) == PreviewState.WAITING_FOR_IMAGE
    assert fake.count("GET", "/tarball/") == 1  # backing off, not hammering
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    resolver = service.ctx.images
    resolver._retry.clear()  # type: ignore[attr-defined]  # skip the backoff instead of waiting
    settle(service)
    assert remote_log(bare) == [f"preview(acme/shop#42): create at {SHA1[:7]}"]


def test_failed_feedback_is_retried_without_duplicates(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    fake.fail_next.append(("/deployments", 422, {}))  # comment posts, deployment creation fails
    step(service, 4)
    state = runtime(service).state
    assert state.pending_count() == 1
    rt = runtime(service)
    feedback.publish_feedback(service.config, service.store.get_preview, rt.scm, state, now=10**12)
    assert state.pending_count() == 0
    assert len(fake.comments(REPO, 42)) == 1 and len(fake.deployments(REPO)) == 1


def test_argocd_degraded_then_failed(service: Service, fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    settle(service)
    argocd_event(service, "health-degraded", SHA1)
    settle(service)
    assert preview_state(service) == PreviewState.DEGRADED
    assert "**degraded**" in fake.comments(REPO, 42)[0]["body"]
    argocd_event(service, "deployed", "f" * 40)  # a stale revision changes nothing
    settle(service)
    assert preview_state(service) == PreviewState.DEGRADED
    (deployment,) = fake.deployments(REPO)
    assert fake.deployment_states(REPO, deployment["id"]) == ["in_progress", "failure"]


def test_redeploy_rolls_the_same_commit_with_a_new_deployment(
        service: Service, fake: FakeGitHub, bare: Path) -> None:
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    fake.set_permission(REPO, "maint", "write")
    settle(service)
    argocd_event(service, "deployed", SHA1)
    settle(service)
    comment_event(service, "/preview redeploy", "maint", comment_id=904)
    settle(service)
    assert len(remote_log(bare)) == 2
    app = remote_files(bare, PREFIX)[f"{PREFIX}/application.yaml"].decode()
    assert "previewd.io/redeploy: '1'" in app or 'previewd.io/redeploy: "1"' in app
    first, second = fake.deployments(REPO)
    assert first["ref"] == second["ref"] == SHA1
    assert fake.deployment_states(REPO, second["id"]) == ["in_progress"]
    argocd_event(service, "deployed", SHA1)
    settle(service)
    assert fake.deployment_states(REPO, second["id"]) == ["in_progress", "success"]
    assert len(fake.comments(REPO, 42)) == 1


def test_resync_stops_early_when_github_is_down(tmp_path: Path, bare: Path, fake: FakeGitHub) -> None:
    data = github_config(tmp_path, bare, fake)
    template = data["repositories"][0]
    data["repositories"] = [{**template, "name": f"acme/svc{i}", "host": None, "route": None} for i in range(6)]
    data["previews"] = {"namespace_template": "pr-{number}-{owner}-{repo}"}
    svc = build_service(parse_config(data, env(fake)))
    fake.outage = True
    status = ResyncStatus()
    assert resync(svc.ctx, runtime(svc).scm, status, 0.0) == []
    assert fake.count("GET", "/pulls") == 3 * 3  # three repositories, three attempts each, then stop
    assert len(status.failed_repositories) == 6
    svc.store.close()


def test_teardown_cleans_the_prs_ghcr_versions_through_the_packages_api(
        tmp_path: Path, bare: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from previewd.adapters.registry import ManifestInfo
    from previewd.jobs import tag_cleanup
    from tests.fakes import FakeManifestReader
    from tests.github_support import ghcr_service

    sha3 = "3" * 40
    reader = FakeManifestReader()
    reader.manifests[("ghcr.io", "acme/shop", f"pr-42-{SHA1}")] = ManifestInfo("sha256:" + "1" * 64, None)
    fake.organizations.add("acme")
    main = fake.add_container_version("acme", "shop", "sha256:" + "a" * 64, ("main",))
    old = fake.add_container_version("acme", "shop", "sha256:" + "1" * 64, (f"pr-42-{SHA1}",))
    shared = fake.add_container_version("acme", "shop", "sha256:" + "2" * 64, (f"pr-42-{SHA2}", "stable"))
    other = fake.add_container_version("acme", "shop", "sha256:" + "7" * 64, (f"pr-7-{SHA1}",))
    new = fake.add_container_version("acme", "shop", "sha256:" + "3" * 64, (f"pr-42-{sha3}",))
    service = ghcr_service(tmp_path, bare, fake, reader)
    slept: list[float] = []
    monkeypatch.setattr(runtime(service).scm, "_sleep", slept.append)  # inline retries, no waiting
    fake.add_pull(REPO, 42, SHA1)
    fake.add_tarball(REPO, SHA1, CLEAN_BUNDLE)
    settle(service)
    app = remote_files(bare, PREFIX)[f"{PREFIX}/application.yaml"]
    assert b"ghcr.io/acme/shop@sha256:" + b"1" * 64 in app

    for _ in range(3):  # the first delete fails through all inline retries
        fake.fail_next.append((f"/versions/{new}", 502, {}))
    fake.close_pull(REPO, 42, updated_at="2026-01-02T00:00:00Z")
    resync_now(service)
    settle(service)
    retry = tag_cleanup.run(service.ctx)
    assert remote_files(bare, PREFIX) == {} and preview_state(service) == PreviewState.TORN_DOWN
    assert "**torn down**" in fake.comments(REPO, 42)[0]["body"]
    job = service.store.get_preview(REPO, 42).extra["tag_cleanup"]  # type: ignore[union-attr]
    assert job["pending"] is True and job["attempts"] == 1 and "HTTP 502" in job["error"]
    assert retry is not None and 0 < retry.seconds <= tag_cleanup.FIRST_RETRY  # when the worker runs it again
    assert slept == [0.5, 1.0] and len(fake.container_tags("acme", "shop")) == 5

    assert tag_cleanup.run(service.ctx, clock=lambda: job["next_at"]) is None  # the retry, once due: done
    job = service.store.get_preview(REPO, 42).extra["tag_cleanup"]  # type: ignore[union-attr]
    assert job["pending"] is False and job["attempts"] == 2 and "error" not in job
    assert fake.container_tags("acme", "shop") == {
        other: [f"pr-7-{SHA1}"], shared: [f"pr-42-{SHA2}", "stable"], main: ["main"]}
    assert sorted(job["deleted"]) == [f"ghcr.io/acme/shop:pr-42-{SHA1}", f"ghcr.io/acme/shop:pr-42-{sha3}"]
    assert job["kept"] == [f"ghcr.io/acme/shop:pr-42-{SHA2} (same digest as tag stable)"]
    assert fake.count("DELETE", f"/versions/{old}") == 1
    assert fake.count("GET", "/users/acme") == 1  # owner kind looked up once, then /orgs/ paths
    assert fake.count(contains="/users/acme/packages") == 0
