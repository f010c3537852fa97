"""Image pushed -> digest-pinned commit in the bare GitOps remote, with and without notifications.

Runs a real ``docker-registry`` and a real ``previewd serve`` on loopback. For each iteration a
PR is opened (previewd answers ``waiting-for-image``), then, after a simulated CI build delay
spread evenly over ``0..--ci-delay`` seconds, ``skopeo copy`` pushes its image. The latency is
measured from ``skopeo`` exiting to the commit that pins exactly that digest appearing in the
bare remote.

- notification-driven: the registry notifies ``/hooks/registry/distribution``;
- poll-driven: no notifications; previewd's backoff re-checks (1 s, 2 s, 4 s ... 60 s) find it.

Usage: ``python bench/push_to_commit.py [--iterations N] [--ci-delay S]``. Loopback only;
bounded (N iterations per mode, each with a 60 s deadline).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry_support import OciLayout, Registry, have_registry, skopeo_push  # noqa: E402
from tests.support import (  # noqa: E402
    Serve,
    base_config,
    free_port,
    make_bare,
    pr_payload,
    write_config,
)

from bench.common import Targets, pct, ref_value, wait_until  # noqa: E402

TARGET_NOTIFIED_P50_S = 1.0
IMAGE_UPDATER_POLL_S = 120.0  # Argo CD Image Updater's default interval, for comparison
TOKEN = "bench-token"
DEADLINE_S = 60.0


def committed_digest(bare: Path, number: int, digest: str) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(bare), "show", f"main:previews/acme/shop/pr-{number}/application.yaml"],
        capture_output=True, text=True)
    return proc.returncode == 0 and digest in proc.stdout


def run_mode(notified: bool, iterations: int, ci_delay: float) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="previewd-bench-") as tmp_name:
        tmp = Path(tmp_name)
        bare = make_bare(tmp / "gitops.git")
        port = free_port()
        notify = f"http://127.0.0.1:{port}/hooks/registry/distribution" if notified else None
        registry = Registry(tmp / "registry", notify_url=notify, notify_token=TOKEN).start()
        config = base_config(tmp, bare, port)
        config["repositories"][0]["images"] = [{
            "name": "ghcr.io/acme/shop", "repository": f"{registry.host}/acme/shop"}]
        config["registries"] = [{"host": registry.host, "insecure": True,
                                 "notifications_token": TOKEN}]
        serve = Serve(write_config(tmp, config), tmp, port).start()
        layout = OciLayout(tmp / "oci")
        latencies: list[float] = []
        try:
            for i in range(iterations):
                number, sha = 100 + i, secrets.token_hex(20)
                tag = f"pr-{number}-{sha}"
                digest = layout.add_image(tag, content=sha.encode())
                serve.post("pull_request", pr_payload(number=number, sha=sha))

                def waiting(n: int = number) -> bool:
                    previews = serve.get("/api/previews").json()["previews"]
                    return any(p["number"] == n and p["state"] == "waiting-for-image"
                               for p in previews)

                if not wait_until(waiting, time.monotonic() + DEADLINE_S, 0.02):
                    raise RuntimeError(f"PR {number} never reached waiting-for-image")
                time.sleep(ci_delay * i / max(iterations - 1, 1))  # CI builds take a while
                skopeo_push(layout, tag, f"{registry.host}/acme/shop")
                pushed = time.monotonic()
                before = ref_value(bare)

                def pinned(n: int = number, d: str = digest, old: str = before) -> bool:
                    return ref_value(bare) != old and committed_digest(bare, n, d)

                if not wait_until(pinned, pushed + DEADLINE_S):
                    raise RuntimeError(f"PR {number}: no pinned commit within {DEADLINE_S}s")
                latencies.append(time.monotonic() - pushed)
        finally:
            serve.stop()
            registry.stop()
        return latencies


def report(name: str, values: list[float], target: str) -> None:
    print(f"  {name:<22} p50 {pct(values, 50):6.3f} s   p95 {pct(values, 95):6.3f} s   "
          f"mean {statistics.mean(values):6.3f} s   n={len(values)}   {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--ci-delay", type=float, default=4.0,
                        help="pushes happen 0..S seconds after the PR was opened")
    args = parser.parse_args()
    if not have_registry():
        print("docker-registry and skopeo are required (make system-deps)")
        return 1
    iterations = max(2, min(args.iterations, 50))
    print(f"push -> digest-pinned commit, {iterations} pushes per mode, "
          f"CI delay 0..{args.ci_delay:g} s")
    notified = run_mode(True, iterations, args.ci_delay)
    polled = run_mode(False, iterations, args.ci_delay)
    targets = Targets()
    report("notification-driven", notified,
           targets.check("notification-driven p50", pct(notified, 50) <= TARGET_NOTIFIED_P50_S,
                         f"p50 <= {TARGET_NOTIFIED_P50_S:g} s"))
    report("poll-driven (backoff)", polled,
           f"no target; Argo CD Image Updater polls every {IMAGE_UPDATER_POLL_S:g} s")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
