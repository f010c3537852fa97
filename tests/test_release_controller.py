"""The release controller against a real registry (docker-registry, images pushed with skopeo)
and a real bare state repository. Pushes are handed to the controller directly here; the
notification path through ``previewd serve`` is in test_release_e2e.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from previewd.adapters.git import GitWorkspace
from previewd.adapters.registry import RegistryClient
from previewd.adapters.store.releases import ReleaseStore
from previewd.adapters.store.sql import Store
from previewd.config import RegistryConfig, ReleasesConfig
from previewd.core.registry_events import ImagePushed
from previewd.errors import PermanentError
from previewd.releases.commit_check import RefusedRelease
from previewd.releases.controller import MAX_BACKOFF, ReleaseController
from previewd.releases.editing import RELEASE_KEYS
from previewd.runtime.workspaces import workspace_for
from tests.fakes import FakeClock
from tests.registry_support import OciLayout, Registry, skopeo_push
from tests.release_support import (
    app_env,
    changed_files,
    commit_all,
    env_path,
    release_text,
    show,
    state_repo,
)
from tests.support import git, remote_log

OLD = "sha256:" + "0" * 64
A, B = env_path(tenant="t-a"), env_path(tenant="t-b")


@dataclass
class Rig:
    registry: Registry
    layout: OciLayout
    bare: Path
    tmp: Path
    controller: ReleaseController

    def repo(self, path: str = "team-a/app1") -> str:
        return f"{self.registry.host}/{path}"

    def push(self, tag: str, path: str = "team-a/app1", content: bytes | None = None) -> str:
        digest = self.layout.add_image(tag, content=content or f"{tag} {path}".encode())
        skopeo_push(self.layout, tag, self.repo(path))
        return digest

    def handle(self, tag: str | None, path: str = "team-a/app1") -> Any:
        return self.controller.handle_push(self.registry.host, path, tag)

    def release(self, env: str = A) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(show(self.bare, f"{env}/release.yaml"))
        return data



def make_controller(tmp: Path, bare: Path, registry: Registry, **config: Any) -> ReleaseController:
    releases = ReleasesConfig.model_validate(
        {"gitops": {"url": str(bare), "workdir": str(tmp / "state-work")}, **config})
    client = RegistryClient([RegistryConfig(host=registry.host, insecure=True)])
    store = ReleaseStore(Store(f"sqlite:///{tmp}/db/previewd.db"))
    return ReleaseController(releases, workspace_for(releases.gitops), client, store, CollectorRegistry(),
                             monotonic=FakeClock(1000.0))


def rig(tmp: Path, registry: Registry, envs: dict[str, Any], **config: Any) -> Rig:
    bare = state_repo(tmp, envs)
    return Rig(registry, OciLayout(tmp / "oci"), bare, tmp, make_controller(tmp, bare, registry,
                                                                            **config))


def claimed(registry: Registry, path: str = "team-a/app1", **kw: Any) -> tuple[dict[str, Any], str]:
    doc = app_env(f"{registry.host}/{path}", **kw)
    return doc, release_text(doc, "0.9", OLD)


def test_claimed_push_is_one_commit_changing_only_release_keys(tmp_path: Path,
                                                               registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    digest = r.push("1.0")
    outcome = r.handle("1.0")
    assert outcome.action == "released", outcome
    assert len(remote_log(r.bare)) == 2
    assert changed_files(r.bare) == [f"{A}/release.yaml"]
    release = r.release()
    assert release["spec"]["image"]["digest"] == digest == registry.digest("team-a/app1", "1.0")
    assert release["spec"]["image"]["tag"] == "1.0"
    before = yaml.safe_load(show(r.bare, f"{A}/release.yaml", "main~1"))
    for doc in (before, release):
        for *parents, key in RELEASE_KEYS:
            holder = doc
            for p in parents:
                holder = holder[p]
            holder.pop(key, None)
    assert before == release
    assert "# written by the release controller only" in show(r.bare, f"{A}/release.yaml")
    body = git("-C", str(r.bare), "log", "-1", "--format=%B")
    assert body.startswith(f"release(team-a/app1/dev): {r.repo()}:1.0@{digest}\n")
    assert f"previous: {OLD}" in body and f"environment: dev ({A})" in body


def test_unclaimed_push_writes_nothing(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    r.push("1.0", path="team-z/other")
    assert r.handle("1.0", path="team-z/other").action == "unclaimed"
    assert len(remote_log(r.bare)) == 1


def test_two_claims_write_nothing_and_report_the_conflict(tmp_path: Path, registry: Registry) -> None:
    twin = app_env(f"{registry.host}/team-a/app1", app="app2")
    r = rig(tmp_path, registry, {A: claimed(registry), B: (twin, None)})
    r.push("1.0")
    outcome = r.handle("1.0")
    assert outcome.action == "conflict"
    assert len(remote_log(r.bare)) == 1
    (conflict,) = r.controller.conflicts()
    assert conflict["claims"] == [A, B]
    assert conflict["refused_pushes"] == 1
    assert conflict["last_refused"]["tag"] == "1.0"
    with pytest.raises(PermanentError):
        r.controller.promote("workspaces/nope", tag="1.0")
    assert r.controller.promote(A, tag="1.0").action == "conflict"
    assert len(remote_log(r.bare)) == 1


def test_manual_env_is_pending_until_promoted(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry, environment="prod", mode=None)})
    d1 = r.push("1.0")
    assert r.handle("1.0").action == "pending"
    assert r.handle("1.0").action == "pending"  # a duplicate does not add a second entry
    assert len(remote_log(r.bare)) == 1
    (pending,) = r.controller.pending()
    assert (pending.env_path, pending.tag, pending.digest) == (A, "1.0", d1)
    outcome = r.controller.promote(A, digest=d1)
    assert outcome.action == "released" and outcome.commit
    assert r.release()["spec"]["image"] == {"repository": r.repo(), "tag": "1.0", "digest": d1}
    assert r.controller.pending() == []
    assert r.controller.promote(A, digest=d1).action == "skipped"  # nothing to change
    assert len(remote_log(r.bare)) == 2
    with pytest.raises(PermanentError, match="not in the registry"):
        r.controller.promote(A, tag="9.9")


def test_same_tag_pushed_twice_notified_out_of_order(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    r.push("main", content=b"first")
    newest = r.push("main", content=b"second")
    # Both notifications arrive (late, in any order): each re-resolves to the newest digest.
    assert r.handle("main").action == "released"
    assert r.handle("main").action == "skipped"
    assert r.release()["spec"]["image"]["digest"] == newest
    assert len(remote_log(r.bare)) == 2


def test_lower_semver_and_replayed_old_digest_do_not_regress(tmp_path: Path,
                                                             registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry, semver=">=1.0.0")})
    r.push("1.1.0")
    d2 = r.push("1.2.0")
    assert r.handle("1.2.0").action == "released"
    assert r.handle("1.1.0").action == "skipped"  # notified late: lower version
    assert r.handle("1.2.0").action == "skipped"  # duplicate
    assert r.handle("latest").action == "skipped"  # outside the filter (and unknown)
    assert r.release()["spec"]["image"]["digest"] == d2
    assert len(remote_log(r.bare)) == 2


def test_an_earlier_release_is_not_rereleased_by_a_late_duplicate(tmp_path: Path,
                                                                  registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    d1 = r.push("build-1")
    assert r.handle("build-1").action == "released"
    d2 = r.push("build-2")
    assert r.handle("build-2").action == "released"
    assert r.handle("build-1").action == "skipped"  # a redelivered old notification
    assert r.release()["spec"]["image"]["digest"] == d2
    assert r.controller.promote(A, tag="build-1").action == "released"  # explicit rollback
    assert r.release()["spec"]["image"]["digest"] == d1
    assert len(remote_log(r.bare)) == 4


def interloper(r: Rig, edit: Any) -> None:
    """Make the controller's next push race another writer that pushes first."""
    ws: GitWorkspace = r.controller.workspace
    original = ws._push
    other = r.tmp / "other"
    git("clone", "--quiet", str(r.bare), str(other))

    def racing_push(commit: str) -> bool:
        ws._push = original  # type: ignore[method-assign]
        edit(other)
        commit_all(other, "concurrent platform change")
        return original(commit)

    ws._push = racing_push  # type: ignore[method-assign]


def test_concurrent_writer_is_rebased_not_overwritten(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    r.controller.refresh()
    interloper(r, lambda clone: (clone / "README.md").write_text("changed by the platform\n"))
    digest = r.push("1.0")
    assert r.handle("1.0").action == "released"
    assert remote_log(r.bare)[:2] == [f"release(team-a/app1/dev): {r.repo()}:1.0@{digest}",
                                      "concurrent platform change"]
    assert show(r.bare, "README.md") == "changed by the platform\n"
    assert r.release()["spec"]["image"]["digest"] == digest


def test_concurrent_edit_of_the_same_release_is_redecided(tmp_path: Path,
                                                          registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    r.controller.refresh()
    digest = r.push("1.0")

    def same_file(clone: Path) -> None:
        path = clone / A / "release.yaml"
        path.write_text(path.read_text().replace("  observedBy: platform-release-controller",
                                                 "  observedBy: app-env-config"))

    interloper(r, same_file)
    assert r.handle("1.0").action == "released"
    log = remote_log(r.bare)
    assert log[1] == "concurrent platform change" and len(log) == 3
    release = r.release()
    assert release["spec"]["image"]["digest"] == digest
    assert release["spec"]["observedBy"] == "platform-release-controller"


def test_tag_poll_catches_missed_pushes(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry, tagPattern=r"v\d+")})
    r.push("v1")
    assert r.controller.poll() == []  # the first poll only records what is there
    d2 = r.push("v2")
    r.push("nightly")
    (outcome,) = r.controller.poll()
    assert outcome.action == "released"
    assert r.release()["spec"]["image"]["digest"] == d2
    assert r.controller.poll() == []
    assert len(remote_log(r.bare)) == 2


def test_state_repository_changes_are_picked_up_incrementally(tmp_path: Path,
                                                              registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    r.push("1.0")
    assert r.handle("1.0").action == "released"
    other = tmp_path / "platform"
    git("clone", "--quiet", str(r.bare), str(other))
    twin, _ = claimed(registry, app="app2")
    (other / B).mkdir(parents=True)
    (other / B / "app-env.yaml").write_text(yaml.safe_dump(twin))
    commit_all(other, "a second app-env claims the same repository")
    r.push("1.1")
    assert r.handle("1.1").action == "conflict"
    twin["spec"]["registry"]["repository"] = f"{registry.host}/team-a/app2"
    (other / B / "app-env.yaml").write_text(yaml.safe_dump(twin))
    commit_all(other, "claim fixed")
    assert r.handle("1.1").action == "released"
    r.push("2.0", path="team-a/app2")
    assert r.handle("2.0", path="team-a/app2").action == "released"
    assert f"{B}/release.yaml" in changed_files(r.bare)
    (other / A / "app-env.yaml").unlink()
    commit_all(other, "app-env removed")
    r.push("1.2")
    assert r.handle("1.2").action == "unclaimed"


def test_queued_push_survives_a_registry_outage(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    clock = r.controller._monotonic
    assert isinstance(clock, FakeClock)
    digest = r.push("1.0")
    registry.stop()
    store = r.controller.store
    with store.store.transaction() as conn:
        r.controller.enqueue(conn, ImagePushed(registry.host, "team-a/app1", "1.0", None))
    assert r.controller.drain() == []
    (queued,) = store.queued()
    assert queued.attempts == 1
    registry.start()
    assert r.controller.drain() == []  # backing off: not retried at once
    clock.now += MAX_BACKOFF
    (outcome,) = r.controller.drain()
    assert outcome.action == "released"
    assert store.queued() == []
    assert r.release()["spec"]["image"]["digest"] == digest


def test_multi_arch_push_releases_the_index_digest(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    index = r.layout.add_index("2.0")
    skopeo_push(r.layout, "2.0", r.repo())
    assert r.handle("2.0").action == "released"
    assert r.release()["spec"]["image"]["digest"] == index == registry.digest("team-a/app1", "2.0")
    assert r.handle(None).action == "skipped"  # a platform manifest pushed by digest
    assert len(remote_log(r.bare)) == 2


def test_a_batch_of_duplicate_notifications_is_one_commit(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    r.push("1.0")
    digest = r.push("1.1")
    store = r.controller.store
    with store.store.transaction() as conn:
        for tag in ("1.0", "1.1", "1.1", "1.1", None):
            r.controller.enqueue(conn, ImagePushed(registry.host, "team-a/app1", tag, None))
    outcomes = r.controller.drain()
    assert [o.action for o in outcomes] == ["released", "released", "skipped"]
    assert store.queued() == []
    assert r.release()["spec"]["image"]["digest"] == digest
    assert len(remote_log(r.bare)) == 3
    assert r.controller.drain() == []


def test_a_tag_that_is_a_digest_is_a_digest(tmp_path: Path, registry: Registry) -> None:
    r = rig(tmp_path, registry, {A: claimed(registry)})
    digest = r.push("1.0")
    assert r.handle(digest).action == "skipped"  # Harbor's digest push: no tag to release
    assert len(remote_log(r.bare)) == 1
    assert r.controller.promote(A, tag=digest).action == "released"  # promoted as the digest
    image = r.release()["spec"]["image"]
    assert image["digest"] == digest and image.get("tag") != digest


@pytest.mark.parametrize(("broken", "problem"), [
    (lambda text: text + "  rollout: fast\n", "rollout"),  # a field the contract does not know
    (lambda text: text.replace("app: app1", "app: app2"), "metadata.app"),  # someone else's file
])
def test_a_release_yaml_release_check_would_reject_is_never_committed(
        tmp_path: Path, registry: Registry, broken: Any, problem: str) -> None:
    env, release = claimed(registry)
    r = rig(tmp_path, registry, {A: (env, broken(release))})
    r.push("1.0")
    with pytest.raises(RefusedRelease, match=problem):
        r.handle("1.0")
    assert len(remote_log(r.bare)) == 1
    assert r.controller.drain() == []
