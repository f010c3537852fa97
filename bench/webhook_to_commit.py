"""Webhook accepted -> commit visible in the bare GitOps remote, beside the plain-git floor.

Runs a real ``previewd serve`` on loopback against a local bare repository:

1. the floor: ``git add && git commit && git push`` of an equivalent change (same files);
2. single events: one signed ``pull_request`` event at a time, latency p50/p95/p99;
3. a burst of 1000 ``opened`` events for 1000 PRs: time until all are committed, number of
   commits, peak RSS of the previewd process.

Usage: ``python bench/webhook_to_commit.py [--single N] [--burst N]``. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import (  # noqa: E402
    Serve,
    base_config,
    free_port,
    git,
    github_headers,
    make_bare,
    pr_payload,
    write_config,
)

from bench.common import Targets, commit_count, pct, ref_value, wait_ref_change  # noqa: E402
from previewd.config import Config  # noqa: E402

TARGET_RATIO = 1.5
TARGET_BURST_S = 20.0
TARGET_BURST_COMMITS = 100
TARGET_RSS_MB = 200.0


def floor(tmp: Path, files: dict[str, bytes], runs: int) -> list[float]:
    """Plain git: write the same files, add, commit, push."""
    bare = make_bare(tmp / "floor.git")
    work = tmp / "floor-work"
    git("clone", "-q", str(bare), str(work))
    git("config", "user.name", "bench", cwd=work)
    git("config", "user.email", "bench@example.com", cwd=work)
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        d = work / "previews" / "acme" / "shop" / f"pr-{i}"
        for rel, content in files.items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_bytes(content)
        git("add", "--all", "--", str(d.relative_to(work)), cwd=work)
        git("commit", "-q", "-m", f"pr {i}", cwd=work)
        git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=work)
        samples.append(time.perf_counter() - start)
    return samples


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(client: httpx.Client, url: str, payload: dict[str, object]) -> None:
    body = json.dumps(payload).encode()
    response = client.post(url, content=body, headers=github_headers("pull_request", body))
    if response.status_code != 202:
        raise RuntimeError(f"unexpected {response.status_code}: {response.text}")


async def burst(url: str, count: int, start_number: int) -> None:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        sem = asyncio.Semaphore(16)

        async def one(n: int) -> None:
            payload = pr_payload(number=n, sha=f"{n:040x}")
            body = json.dumps(payload).encode()
            async with sem:
                r = await client.post(url, content=body, headers=github_headers("pull_request", body))
                if r.status_code != 202:
                    raise RuntimeError(f"unexpected {r.status_code}")

        await asyncio.gather(*(one(start_number + i) for i in range(count)))


def count_previews(bare: Path) -> int:
    proc = subprocess.run(["git", "-C", str(bare), "ls-tree", "-d", "--name-only", "main",
                           "previews/acme/shop/"], capture_output=True, text=True)
    return len(proc.stdout.splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=30)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="previewd-bench-"))
    try:
        bare = make_bare(tmp / "gitops.git")
        port = free_port()
        config = write_config(tmp, base_config(tmp, bare, port))
        serve = Serve(config, tmp, port).start()
        try:
            url = serve.url + "/hooks/github"
            with httpx.Client(timeout=30) as client:
                latencies = []
                for i in range(args.single + 1):
                    old = ref_value(bare)
                    post(client, url, pr_payload(number=100000 + i, sha=f"{i:040x}"))
                    accepted = time.perf_counter()
                    latencies.append(wait_ref_change(bare, old) - accepted)
                latencies = latencies[1:]  # the first one includes the initial clone
            from previewd.settings import load_config

            files = _rendered_files(load_config(config, {"PREVIEWD_WEBHOOK_SECRET": "x"}))
            floor_samples = floor(tmp, files, args.single)

            before = count_previews(bare)
            commits_before = commit_count(bare)
            start = time.perf_counter()
            asyncio.run(burst(url, args.burst, 1))
            sent = time.perf_counter() - start
            deadline = start + 120
            while count_previews(bare) < before + args.burst and time.perf_counter() < deadline:
                time.sleep(0.05)
            burst_s = time.perf_counter() - start
            done = count_previews(bare) - before
            commits = commit_count(bare) - commits_before
            rss = peak_rss_mb(serve.proc.pid) if serve.proc else float("nan")
        finally:
            serve.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ms = [x * 1000 for x in latencies]
    floor_ms = [x * 1000 for x in floor_samples]
    p50, floor_p50 = statistics.median(ms), statistics.median(floor_ms)
    ratio = p50 / floor_p50
    targets = Targets()
    print("webhook -> commit visible in the bare remote (single events)")
    print(f"  previewd   p50 {p50:7.1f} ms   p95 {pct(ms, 95):7.1f} ms   p99 {pct(ms, 99):7.1f} ms   (n={len(ms)})")
    print(f"  git floor  p50 {floor_p50:7.1f} ms   p95 {pct(floor_ms, 95):7.1f} ms   (add+commit+push)")
    print(f"  ratio      {ratio:5.2f}x   "
          + targets.check("single-event ratio to git", ratio <= TARGET_RATIO, f"<= {TARGET_RATIO}x"))
    print(f"burst of {args.burst} opened events for {args.burst} PRs")
    print(f"  all accepted in {sent:5.2f} s; committed {done}/{args.burst} in {burst_s:5.2f} s   "
          + targets.check("burst committed in time", done == args.burst and burst_s <= TARGET_BURST_S,
                          f"<= {TARGET_BURST_S} s"))
    print(f"  commits    {commits}   "
          + targets.check("burst commits", commits <= TARGET_BURST_COMMITS, f"<= {TARGET_BURST_COMMITS}"))
    print(f"  peak RSS   {rss:6.1f} MB   "
          + targets.check("peak RSS", rss <= TARGET_RSS_MB, f"<= {TARGET_RSS_MB} MB"))
    return targets.exit_code()


def _rendered_files(config: Config) -> dict[str, bytes]:
    from previewd.core.render.preview import PreviewInput, render_preview

    repo = config.repositories[0]
    return render_preview(config, repo, PreviewInput(repo.name, 1, "a" * 40))


if __name__ == "__main__":
    sys.exit(main())
