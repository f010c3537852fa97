"""Registry push -> release.yaml commit, and match time with 10 000 app-envs.

Runs a real ``docker-registry`` (notifications to previewd) and a real ``previewd serve``
whose release controller watches a local bare state repository holding ``--envs`` app-envs:

1. push -> commit: an image is pushed with skopeo to the one claimed repository; latency until
   the release commit is visible in the bare remote, p50/p95 (from the end of the push, and
   from its start, which includes skopeo's own upload);
2. matching: the controller's index over the same state repository, time per lookup
   (normalise + exactly-one-match) and the full / incremental scan times.

Usage: ``python bench/release_latency.py [--pushes N] [--envs N]``. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry_support import OciLayout, Registry, skopeo_push  # noqa: E402
from tests.release_support import app_env, commit_all, env_path, release_text  # noqa: E402
from tests.support import Serve, base_config, free_port, git, make_bare, write_config  # noqa: E402

from bench.common import Targets, commit_count, pct, ref_value, wait_ref_change  # noqa: E402
from previewd.releases.matching import normalise  # noqa: E402
from previewd.releases.scan import Scanner  # noqa: E402

TARGET_P50_S = 1.0
TARGET_MATCH_MS = 5.0
HOOK_TOKEN = "bench-hook-token"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def build_state(tmp: Path, host: str, envs: int) -> Path:
    """A bare state repo with ``envs`` app-envs (one claims ``host/bench/app``)."""
    bare = make_bare(tmp / "state.git")
    seed = tmp / "state-seed"
    git("clone", "--quiet", str(bare), str(seed))
    for n in range(envs):
        repo = "bench/app" if n == 0 else f"team-{n % 97}/app-{n}"
        doc = app_env(f"{host}/{repo}", tenant=f"team-{n % 97}", app=f"app-{n}")
        directory = seed / env_path(ws=f"ws-{n % 50}", project=f"p-{n % 400}", tenant=f"t-{n}")
        directory.mkdir(parents=True)
        (directory / "app-env.yaml").write_text(yaml.dump(doc, Dumper=DUMPER, sort_keys=False))
        (directory / "release.yaml").write_text(release_text(doc, "0", "sha256:" + "0" * 64))
    commit_all(seed, f"{envs} app-envs")
    return bare


def match_times(checkout: Path, host: str, lookups: int) -> tuple[list[float], float, float, int]:
    scanner = Scanner(checkout, "workspaces", ["dev", "staging", "prod"])
    start = time.perf_counter()
    scan = scanner.scan()
    full = time.perf_counter() - start
    start = time.perf_counter()
    scanner.scan()
    incremental = time.perf_counter() - start
    refs = [f"{host}/bench/app", f"{host}/team-5/app-5", f"{host}/nobody/else"]
    samples = []
    for i in range(lookups):
        ref = refs[i % len(refs)]
        t0 = time.perf_counter()
        scan.index.match(normalise(ref))
        samples.append(time.perf_counter() - t0)
    return samples, full, incremental, len(scan.entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--envs", type=int, default=10_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="previewd-release-bench-"))
    try:
        port = free_port()
        registry = Registry(tmp / "registry", notify_url=f"http://127.0.0.1:{port}/hooks/registry/distribution",
                            notify_token=HOOK_TOKEN).start()
        try:
            t0 = time.perf_counter()
            state = build_state(tmp, registry.host, args.envs)
            built = time.perf_counter() - t0
            config = base_config(tmp, make_bare(tmp / "gitops.git"), port)
            config["registries"] = [{"host": registry.host, "insecure": True,
                                     "notifications_token": HOOK_TOKEN}]
            config["releases"] = {"gitops": {"url": str(state), "workdir": str(tmp / "state-work")},
                                  "poll_interval": "1h"}
            serve = Serve(write_config(tmp, config), tmp, port).start()
            layout = OciLayout(tmp / "oci")
            from_end, from_start, push_s = [], [], []
            try:
                for i in range(args.pushes + 1):
                    tag = f"build-{i}"
                    layout.add_image(tag, content=f"bench {i}".encode())
                    old = ref_value(state)
                    start = time.perf_counter()
                    skopeo_push(layout, tag, f"{registry.host}/bench/app", all_platforms=False)
                    pushed = time.perf_counter()
                    done = wait_ref_change(state, old)
                    if i == 0:
                        continue  # the first includes the initial clone and the full scan
                    from_end.append(max(done - pushed, 0.0))
                    from_start.append(done - start)
                    push_s.append(pushed - start)
            finally:
                serve.stop()
        finally:
            registry.stop()
        checkout = tmp / "match-checkout"
        git("clone", "--quiet", str(state), str(checkout))
        samples, full, incremental, count = match_times(checkout, registry.host, 30_000)
        commits = commit_count(state)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    end_ms = [x * 1000 for x in from_end]
    start_ms = [x * 1000 for x in from_start]
    p50 = statistics.median(from_end)
    targets = Targets()
    print(f"state repository: {args.envs} app-envs (built in {built:.1f} s), {commits} commits")
    print(f"push -> release commit, with registry notifications (n={len(end_ms)})")
    print(f"  from push done   p50 {statistics.median(end_ms):7.1f} ms   p95 {pct(end_ms, 95):7.1f} ms   "
          + targets.check("push -> release commit p50", p50 <= TARGET_P50_S,
                          f"p50 <= {TARGET_P50_S * 1000:.0f} ms"))
    print(f"  from push start  p50 {statistics.median(start_ms):7.1f} ms   p95 {pct(start_ms, 95):7.1f} ms   "
          f"(skopeo upload itself p50 {statistics.median(push_s) * 1000:.1f} ms)")
    us = [x * 1e6 for x in samples]
    p99_ms = pct(us, 99) / 1000
    print(f"match (normalise + index lookup) over {count} app-envs (n={len(us)})")
    print(f"  p50 {statistics.median(us):6.1f} us   p99 {pct(us, 99):6.1f} us   "
          + targets.check("match p99", p99_ms <= TARGET_MATCH_MS, f"p99 <= {TARGET_MATCH_MS} ms") + "   "
          f"(max {max(us) / 1000:.3f} ms, includes any GC pause or preemption)")
    print(f"  scan of the checkout: full {full * 1000:.0f} ms, incremental (nothing changed) "
          f"{incremental * 1000:.0f} ms")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
