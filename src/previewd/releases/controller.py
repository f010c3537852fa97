"""The release controller job: pushes in, at most one ``release.yaml`` commit out.

Level-triggered like the rest of previewd: a push (notification or tag poll) only says "look
at this repository's tag again". The controller re-reads the state repository, finds the one
app-env that claims the repository, re-resolves the tag's digest from the registry and edits
``release.yaml`` from what it reads at that moment (again after any rebase), so lost,
duplicated or reordered notifications cannot move a release backwards or commit twice.

All git work is serialised by one lock per controller (one state repository and branch).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.engine import Connection

from previewd.adapters.git import GitWorkspace
from previewd.adapters.registry import ManifestInfo
from previewd.adapters.store.releases import Pending, QueuedPush, ReleaseStore, now
from previewd.config import ReleasesConfig
from previewd.core.backoff import backoff_delay
from previewd.core.registry_events import ImagePushed, is_digest
from previewd.errors import PermanentError, TransientError
from previewd.releases import editing
from previewd.releases.commit_check import check_release
from previewd.releases.contract import RELEASE_FILE
from previewd.releases.matching import Repository, RepositoryError, normalise
from previewd.releases.policy import Action, Current, Decision, decide, tag_allowed
from previewd.releases.scan import EnvEntry, InvalidYaml, Scanner, ScanResult, read_yaml
from previewd.releases.semver import Version, parse_version

log = logging.getLogger("previewd.releases")

MAX_BACKOFF = 60.0  # seconds between drain attempts while git or the registry is failing


class RegistryReader(Protocol):
    """What the controller needs from the registry client (HEAD and tag list only)."""

    def head_manifest(self, host: str, repository: str, reference: str) -> ManifestInfo | None: ...

    def list_tags(self, host: str, repository: str) -> list[str]: ...


class UnknownEnvironment(PermanentError):
    """No valid app-env.yaml at the given path."""


@dataclass(frozen=True)
class Outcome:
    """What one push or promotion did: released, pending, skipped, unclaimed or conflict."""

    action: str
    detail: str
    env_path: str | None = None
    commit: str | None = None


class ReleaseMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.outcomes = Counter("previewd_release_outcomes_total",
                                "Release controller outcomes per push or promotion", ["outcome"],
                                registry=registry)
        self.conflicts = Counter("previewd_release_conflicts_total",
                                 "Pushes refused because several app-envs claim the repository",
                                 registry=registry)


def commit_message(entry: EnvEntry, repository: str, tag: str | None, digest: str,
                   previous: str | None, how: str) -> str:
    m = entry.env.metadata
    ref = f"{repository}:{tag}@{digest}" if tag else f"{repository}@{digest}"
    return (f"release({m.tenant}/{m.app}/{m.environment}): {ref}\n\n"
            f"environment: {m.environment} ({entry.path})\n"
            f"previous: {previous or 'none'}\n"
            f"trigger: {how}\n")


class ReleaseController:
    def __init__(self, config: ReleasesConfig, workspace: GitWorkspace, registry: RegistryReader,
                 store: ReleaseStore, metrics: CollectorRegistry | None = None,
                 clock: Callable[[], str] = now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.workspace = workspace
        self.registry = registry
        self.store = store
        self.metrics = ReleaseMetrics(metrics)
        self._clock = clock
        self._monotonic = monotonic
        self._failures = 0  # consecutive failed pushes, for the backoff
        self._retry_at = 0.0
        self._lock = threading.RLock()
        self._scanner = Scanner(workspace.workdir, config.gitops.path, config.environments)
        self._scan: ScanResult | None = None
        self._scanned_head: str | None = None

    # -- the state repository -----------------------------------------------------------

    def refresh(self) -> ScanResult:
        """Fetch the state repository and rescan what changed."""
        with self._lock:
            self.workspace.sync()  # makes the clone ready first (one fetch either way)
            head = self.workspace.tip()
            scan = self._scan
            if scan is None or head != self._scanned_head:
                changed = None if scan is None else self._changed_env_dirs(self._scanned_head, head)
                if scan is None or changed is None:
                    scan = self._scanner.scan()
                elif changed:
                    scan = self._scanner.update(changed)
                if changed != set():  # only our own release commits: nothing new to report
                    for problem in scan.problems:
                        log.warning("state repository: %s", problem)
                self._scan, self._scanned_head = scan, head
            return scan

    def _changed_env_dirs(self, old: str | None, new: str | None) -> set[str] | None:
        """App-env directories whose app-env.yaml changed between two commits; None when
        unknown (first scan, or history was rewritten), which means a full scan."""
        if old is None or new is None:
            return None
        paths = self.workspace.changed_paths(old, new)
        if paths is None:
            return None
        return {path.rpartition("/")[0] for path in paths if path.endswith("/app-env.yaml")}

    def conflicts(self) -> list[dict[str, object]]:
        """Repositories claimed by more than one app-env, with the pushes refused for each."""
        scan = self._scan or self.refresh()
        refusals = self.store.refusals()
        out: list[dict[str, object]] = []
        for match in scan.index.conflicts():
            refusal = refusals.get(str(match.repository))
            out.append({
                "repository": str(match.repository),
                "claims": [e.path for e in match.claims],
                "refused_pushes": refusal.refused if refusal else 0,
                "last_refused": ({"tag": refusal.last_tag, "digest": refusal.last_digest,
                                  "at": refusal.seen_at} if refusal else None),
            })
        return out

    def pending(self) -> list[Pending]:
        return self.store.pending()

    # -- intake ---------------------------------------------------------------------------

    def enqueue(self, conn: Connection, push: ImagePushed) -> None:
        """Queue a push inside the event's transaction; ``drain`` handles it after."""
        self.store.enqueue(conn, push.registry, push.repository, push.tag, push.digest)

    def drain(self) -> list[Outcome]:
        """Handle queued pushes in arrival order. A transient failure (git or registry down)
        stops the drain and backs off; the push stays queued for a bounded number of tries,
        and the tag poll catches up with anything dropped meanwhile."""
        outcomes: list[Outcome] = []
        if self._monotonic() < self._retry_at:
            return outcomes
        queued = self.store.queued()
        if not queued:
            return outcomes
        with self._lock:
            handled: set[tuple[str, str, str | None]] = set()
            for push in queued:
                key = (push.registry, push.repository, push.tag)
                try:
                    if not handled:
                        self.refresh()  # once per batch: our own commits keep the tree current
                    if key not in handled:  # a duplicate in one batch resolves the same way
                        outcomes.append(self.handle_push(*key, refresh=False))
                    handled.add(key)
                except TransientError as err:
                    self._back_off(push, err.diagnostics(), err.retry_after)
                    break
                except PermanentError as err:
                    log.warning("release push %s/%s:%s refused: %s", push.registry,
                                push.repository, push.tag, err.diagnostics())
                except Exception as err:  # outermost boundary of a push: keep it, retry bounded
                    log.exception("release push %s/%s:%s failed", push.registry, push.repository,
                                  push.tag)
                    self._back_off(push, repr(err), None)
                    break
                self.store.done(push.id)
            else:
                self._failures = 0
        return outcomes

    def _back_off(self, push: QueuedPush, error: str, retry_after: float | None) -> None:
        dropped = self.store.failed(push, error)
        self._failures += 1
        self._retry_at = self._monotonic() + backoff_delay(self._failures, retry_after, first=1.0,
                                                           cap=MAX_BACKOFF)
        log.warning("release push %s/%s:%s failed%s, next try in %.0fs: %s", push.registry,
                    push.repository, push.tag, " (dropped)" if dropped else "",
                    self._retry_at - self._monotonic(), error)

    def handle_push(self, registry: str, repository: str, tag: str | None,
                    refresh: bool = True) -> Outcome:
        """One push: match, re-resolve, decide, write (``refresh``: fetch the state repo first)."""
        if is_digest(tag):
            tag = None  # a "tag" that is a digest (Harbor digest pushes, replication) is a digest
        if tag is None:
            return self._count(Outcome("skipped", "untagged push (index children, digest-only)"))
        try:
            repo = normalise(f"{registry}/{repository}")
        except RepositoryError as err:
            return self._count(Outcome("skipped", str(err)))
        with self._lock:
            scan = self.refresh() if refresh or self._scan is None else self._scan
            match = scan.index.match(repo)
            if not match.claims:
                log.info("push of %s:%s: no app-env claims %s", repo, tag, repo)
                return self._count(Outcome("unclaimed", f"no app-env claims {repo}"))
            if match.conflict:
                return self._refuse(repo, [e.path for e in match.claims], tag)
            (entry,) = match.claims
            info = self.registry.head_manifest(repo.host, repo.path, tag)
            if info is None:
                return self._count(Outcome("skipped", f"{repo}:{tag} is not in the registry",
                                           entry.path))
            self.store.see_tag(str(repo), tag, info.digest)
            return self._release(entry, tag, info.digest, force=False, how="registry push")

    def _refuse(self, repo: Repository, claims: list[str], tag: str | None,
                digest: str | None = None) -> Outcome:
        self.store.refuse(str(repo), claims, tag, digest)
        self.metrics.conflicts.inc()
        log.error("push of %s:%s refused: %d app-envs claim the repository (%s)", repo, tag,
                  len(claims), ", ".join(claims))
        return self._count(Outcome("conflict", f"{repo} is claimed by {', '.join(claims)}"))

    def _count(self, outcome: Outcome) -> Outcome:
        self.metrics.outcomes.labels(outcome.action).inc()
        return outcome

    # -- writing --------------------------------------------------------------------------

    def _release(self, entry: EnvEntry, tag: str | None, digest: str, force: bool,
                 how: str) -> Outcome:
        """Decide against the release.yaml in the work tree and commit when it changes."""
        decided: list[Decision] = []
        released = self.store.released(entry.path)
        repository = entry.env.spec.registry.repository
        rel = f"{entry.path}/{RELEASE_FILE}"

        def edit(root: Path) -> tuple[list[str], str]:
            decided.clear()
            file = root / rel
            text = file.read_text(encoding="utf-8") if file.is_file() else editing.skeleton(entry.env)
            old_tag, old_digest = editing.current_image(text)
            if force:
                decision = (Decision(Action.SKIP, f"{digest} is already the release")
                            if digest == old_digest else Decision(Action.RELEASE, "promoted"))
            else:
                decision = decide(entry.env, tag or "", digest,
                                  Current(old_digest, old_tag, released),
                                  self.config.manual_environments)
            decided.append(decision)
            if decision.action is not Action.RELEASE:
                return [], ""
            new = editing.edit_release(text, editing.NewRelease(
                repository, tag, digest, self._clock(), self.config.observed_by))
            # Never commit what `release check` or the config management plugin would reject.
            check_release(entry.env, new, rel, self.config.environments)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(new, encoding="utf-8")
            return [rel], commit_message(entry, repository, tag, digest, old_digest, how)

        commit = self.workspace.edit(edit)
        decision = decided[-1]
        if decision.action is Action.PENDING:
            if self.store.add_pending(entry.path, repository, tag, digest):
                log.info("release %s:%s@%s pending promotion for %s", repository, tag, digest,
                         entry.path)
            return self._count(Outcome("pending", decision.reason, entry.path))
        if decision.action is Action.SKIP or commit is None:
            return self._count(Outcome("skipped", decision.reason, entry.path))
        self.store.record_release(entry.path, tag, digest)
        log.info("released %s:%s@%s to %s (%s)", repository, tag, digest, entry.path, commit[:12])
        return self._count(Outcome("released", decision.reason, entry.path, commit))

    def promote(self, env_path: str, tag: str | None = None, digest: str | None = None) -> Outcome:
        """The explicit promotion (how a manual environment is released, and how any is rolled back): release ``tag`` or
        ``digest`` to ``env_path`` whatever its mode; the digest comes from the registry."""
        if is_digest(tag) and digest is None:
            tag, digest = None, tag  # a "tag" that is a digest is a digest
        if (tag is None) == (digest is None):
            raise PermanentError("promote needs exactly one of tag or digest")
        with self._lock:
            scan = self.refresh()
            entry = next((e for e in scan.entries if e.path == env_path.strip("/")), None)
            if entry is None:
                raise UnknownEnvironment(f"no valid app-env.yaml at {env_path}")
            repo = entry.env.repository
            match = scan.index.match(repo)
            if match.conflict:
                return self._refuse(repo, [e.path for e in match.claims], tag, digest)
            info = self.registry.head_manifest(repo.host, repo.path, tag or digest or "")
            if info is None:
                raise PermanentError(f"{repo}:{tag or digest} is not in the registry")
            if tag is None:
                known = [p.tag for p in self.store.pending(entry.path) if p.digest == info.digest]
                tag = known[0] if known else None
            return self._release(entry, tag, info.digest, force=True, how="promotion")

    # -- the safety-net poll ---------------------------------------------------------------

    def poll(self) -> list[Outcome]:
        """Tags list + HEAD for each uniquely claimed repository: catches missed notifications.
        The first poll of a repository only records what is there (nothing is released)."""
        outcomes: list[Outcome] = []
        with self._lock:
            scan = self.refresh()
            for repo, claims in sorted(scan.index.claims.items()):
                if len(claims) != 1:
                    continue
                try:
                    outcomes += self._poll_one(repo, claims[0])
                except (TransientError, PermanentError) as err:
                    log.warning("tag poll of %s failed: %s", repo, err.diagnostics())
        return outcomes

    def _poll_one(self, repo: Repository, entry: EnvEntry) -> list[Outcome]:
        seen = self.store.seen_tags(str(repo))
        tags = [t for t in self.registry.list_tags(repo.host, repo.path)
                if tag_allowed(entry.env, t)[0]]
        fresh = [t for t in tags if t not in seen]
        # Newest first by semver where tags are versions, so the cap keeps the useful ones.
        fresh.sort(key=_tag_order, reverse=True)
        current_tag = self._current_tag(entry)
        watch = fresh[: self.config.poll_max_tags]
        if current_tag in tags and current_tag not in watch:
            watch.append(current_tag)  # a moved tag (e.g. "stable") changes the digest
        baseline = not seen
        changed: list[tuple[str, str]] = []
        for tag in watch:
            info = self.registry.head_manifest(repo.host, repo.path, tag)
            if info is None:
                continue
            if seen.get(tag) != info.digest:
                self.store.see_tag(str(repo), tag, info.digest)
                changed.append((tag, info.digest))
        if baseline:
            return []
        changed.sort(key=lambda td: _tag_order(td[0]))
        return [self._release(entry, tag, digest, force=False, how="tag poll")
                for tag, digest in changed]

    def _current_tag(self, entry: EnvEntry) -> str | None:
        file = self.workspace.workdir / entry.path / RELEASE_FILE
        if not file.is_file():
            return None
        try:
            return editing.image_of(read_yaml(file))[0]
        except InvalidYaml:
            return None


def _tag_order(tag: str) -> tuple[bool, Version | str]:
    """Sort key: versions (by semver) above other tags (by name)."""
    version = parse_version(tag)
    return (version is not None, version or tag)
