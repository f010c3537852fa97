"""Resync cost: 100 repositories x 10 open PRs, resync every 60 s, against FakeGitHub.

The real adapter (githubkit over HTTP on loopback) and the real resync job run against a fake
that counts requests and honours ETags (a 304 does not count against the rate limit, as on
GitHub). An hour of cycles is simulated back to back, without sleeping:

1. requests per hour that count against the rate limit once nothing changes (target 0);
2. wall time of one full resync of all 1000 PRs (target <= 2 s);
3. requests for one changed PR (a new head commit) in the next resync (target <= 3).

Usage: ``python bench/resync_cost.py [--repos N] [--prs N] [--interval S]``. Loopback only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeGitHub  # noqa: E402

from bench.common import Targets  # noqa: E402
from previewd.adapters.scm.github import GitHubScm  # noqa: E402
from previewd.adapters.store.sql import Store  # noqa: E402
from previewd.jobs.context import JobContext  # noqa: E402
from previewd.jobs.resync import ResyncStatus, resync  # noqa: E402
from previewd.runtime.workspaces import workspace_for  # noqa: E402
from previewd.settings import parse_config  # noqa: E402

TARGET_PER_HOUR = 0
TARGET_RESYNC_S = 2.0
TARGET_CHANGED_CALLS = 3


def config_for(tmp: Path, fake: FakeGitHub, repos: list[str]) -> dict[str, Any]:
    return {
        "store": {"url": f"sqlite:///{tmp}/previewd.db"},
        "github": {"webhook_secret": "x", "api_url": fake.url, "auth": {"token": fake.token},
                   "resync_interval": "60s", "max_teardowns_per_resync": 10},
        "gitops": {"url": str(tmp / "gitops.git"), "workdir": str(tmp / "work")},
        "repositories": [{"name": name, "deploy": {"repo_url": f"https://github.com/{name}.git"}}
                         for name in repos],
    }


def line(targets: Targets, name: str, value: str, target: str, ok: bool) -> None:
    print(f"  {name:<52} {value:>12}   {targets.check(name, ok, f'{target:<8}')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--prs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=60.0)
    args = parser.parse_args()
    repos = [f"org{i}/service-{i}" for i in range(args.repos)]
    with tempfile.TemporaryDirectory() as tmpdir, FakeGitHub(rate_limit=1_000_000) as fake:
        tmp = Path(tmpdir)
        for r, repo in enumerate(repos):
            for n in range(1, args.prs + 1):
                fake.add_pull(repo, n, f"{r:020x}{n:020x}")
        config = parse_config(config_for(tmp, fake, repos), {})
        store = Store(config.store.url)
        ctx = JobContext(config=config, store=store, workspace=workspace_for(config.gitops))
        scm, status = GitHubScm(config.github), ResyncStatus()

        started = time.perf_counter()
        resync(ctx, scm, status, 0.0)  # cold: every list is new, every snapshot applied
        cold = time.perf_counter() - started
        cold_requests = fake.counted

        cycles = round(3600 / args.interval)
        fake.reset_counts()
        warm: list[float] = []
        for cycle in range(cycles):
            started = time.perf_counter()
            resync(ctx, scm, status, float(cycle))
            warm.append(time.perf_counter() - started)
        per_hour, sent_per_hour = fake.counted, len(fake.requests)

        fake.reset_counts()
        fake.update_pull(repos[7], 3, sha="f" * 40, updated_at="2026-02-01T00:00:00Z")
        started = time.perf_counter()
        resync(ctx, scm, status, 1e6)
        changed_s = time.perf_counter() - started
        changed_calls = fake.counted
        preview = store.get_preview(repos[7], 3)
        applied = preview is not None and preview.head_sha == "f" * 40
        store.close()

    total = args.repos * args.prs
    print(f"resync cost: {args.repos} repositories x {args.prs} open PRs ({total} PRs), "
          f"resync every {args.interval:.0f}s, {cycles} cycles simulated")
    print(f"  first (cold) resync: {cold_requests} counted requests, {cold:.2f}s")
    targets = Targets()
    line(targets, "rate-limited requests per hour once nothing changes", str(per_hour), f"{TARGET_PER_HOUR}",
         per_hour <= TARGET_PER_HOUR)
    print(f"  {'(requests sent per hour, all answered 304)':<52} {sent_per_hour:>12}")
    worst = max(warm)
    line(targets, "time of one full resync (worst of the hour)", f"{worst:.3f}s", f"<= {TARGET_RESYNC_S}s",
         worst <= TARGET_RESYNC_S)
    line(targets, "time of the cold resync (all snapshots applied)", f"{cold:.3f}s", f"<= {TARGET_RESYNC_S}s",
         cold <= TARGET_RESYNC_S)
    line(targets, "calls for one changed PR (new head commit)", str(changed_calls), f"<= {TARGET_CHANGED_CALLS}",
         changed_calls <= TARGET_CHANGED_CALLS and applied)
    print(f"  {'(that resync took)':<52} {changed_s:>11.3f}s   change applied: {applied}")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
