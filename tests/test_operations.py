"""What an operator watches: readiness and Prometheus metrics of a real ``previewd serve``."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support import Serve, base_config, pr_payload, remote_log, wait_for, write_config


def samples(serve: Serve) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = serve.get("/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_readiness_and_metrics_follow_gitops_health(tmp_path: Path, bare: Path, port: int) -> None:
    config = write_config(tmp_path, base_config(tmp_path, bare, port))
    hook = bare / "hooks" / "pre-receive"
    serve = Serve(config, tmp_path, port).start()
    try:
        assert serve.get("/readyz").json() == {"status": "ready", "gitops": "ok"}
        serve.post("pull_request", pr_payload(number=1, sha="1" * 40))
        wait_for(lambda: remote_log(bare))
        metrics = wait_for(lambda: (m := samples(serve)).get(("previewd_gitops_commits_total", ())) and m)
        assert metrics[("previewd_webhooks_total", (("outcome", "accepted"), ("source", "github")))] == 1
        assert metrics[("previewd_previews", (("state", "deploying"),))] == 1

        hook.write_text("#!/bin/sh\nexit 1\n")  # the GitOps remote starts refusing pushes
        hook.chmod(0o755)
        serve.post("pull_request", pr_payload(number=2, sha="2" * 40))
        ready = wait_for(lambda: (r := serve.get("/readyz").json()).get("gitops") == "retrying" and r)
        assert "push failed" in ready["gitops_error"]
        assert samples(serve)[("previewd_gitops_push_failures_total", ())] >= 1

        hook.unlink()  # the outage ends: the queued preview is committed, readiness recovers
        wait_for(lambda: len(remote_log(bare)) == 2, timeout=60)
        wait_for(lambda: serve.get("/readyz").json().get("gitops") == "ok", timeout=60)
    finally:
        serve.stop()
