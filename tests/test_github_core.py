"""Pure parts of the GitHub integration: command parsing, teardown guard, feedback text,
config validation, and the Argo CD Notifications manifests (schema-validated)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from previewd.config import Config
from previewd.core.chatops import Command, may_run, parse_command, refusal
from previewd.core.feedback import MAX_POSTED_FINDINGS, FeedbackFacts, desired, marker
from previewd.core.models import Preview, PreviewState, PullRequest
from previewd.core.policy import Trigger, decide
from previewd.core.render.bootstrap import bootstrap_files
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.core.teardown import plan_teardowns
from previewd.errors import ConfigError
from previewd.settings import parse_config
from tests import schemas
from tests.support import base_config, make_pr, make_preview

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("body, command", [
    ("/preview", Command.START),
    ("  /preview  \n", Command.START),
    ("/preview stop", Command.STOP),
    ("/preview   redeploy\nbecause the cache was stale", Command.REDEPLOY),
    ("/preview Stop", None),
    ("/previews", None),
    ("/preview now", None),
    ("/preview stop now", None),
    ("please /preview", None),
    ("", None),
    ("> /preview", None),
])
def test_parse_command_is_strict(body: str, command: Command | None) -> None:
    assert parse_command(body) == command


def test_who_may_run_commands() -> None:
    assert all(may_run(p) for p in ("write", "maintain", "admin"))
    assert not any(may_run(p) for p in ("read", "triage", "none", None))
    assert may_run("read", "maintain")  # a custom role reported through role_name
    assert "@evil" in refusal("evil<script>") and "<" not in refusal("evil<script>")


def test_teardown_guard() -> None:
    closes = [("acme/shop", n) for n in range(1, 4)]
    assert plan_teardowns(closes, 3).teardown == tuple(closes)
    blocked = plan_teardowns(closes, 2)
    assert blocked.blocked and blocked.teardown == () and "3 previews" in blocked.reason
    assert plan_teardowns([], 0) == plan_teardowns([], 10)
    assert plan_teardowns(closes, 0).blocked


def pr(**kw: Any) -> PullRequest:
    return make_pr(**{"head_sha": SHA, **kw})


def preview(state: PreviewState, **kw: Any) -> Preview:
    p = kw.pop("pr", pr())
    decision = decide(p, Trigger(), requested=bool(kw.get("extra", {}).get("requested")))
    return make_preview(pr=p, allowed=decision.allowed, reason=decision.reason,
                        reason_code=decision.code, state=state, namespace="pr-42-shop",
                        host="shop-pr-42.preview.example.com", **kw)


FACTS = FeedbackFacts(label_mode=True, label="preview", argocd_url="https://argocd.example.com")


@pytest.mark.parametrize("state, word, deployment, status", [
    (PreviewState.PENDING, "waiting", None, "pending"),
    (PreviewState.DEPLOYING, "deploying", "in_progress", "pending"),
    (PreviewState.READY, "ready", "success", "success"),
    (PreviewState.DEGRADED, "degraded", "failure", "failure"),
    (PreviewState.FAILED, "failed", "failure", "failure"),
])
def test_feedback_per_state(state: PreviewState, word: str, deployment: str | None, status: str) -> None:
    fb = desired(preview(state, deployed_sha=SHA if deployment else None), FACTS, has_comment=False)
    assert fb.comment is not None and f"**{word}**" in fb.comment
    assert fb.comment.startswith(marker("acme/shop", 42))
    assert "`pr-42-shop`" in fb.comment and SHA[:12] in fb.comment
    assert "https://argocd.example.com/applications/pr-42-shop" in fb.comment
    assert "**Next:**" in fb.comment
    assert (fb.deployment.state if fb.deployment else None) == deployment
    assert fb.status is not None and fb.status.state == status
    if state == PreviewState.READY:
        assert fb.deployment is not None and fb.deployment.environment_url == "https://shop-pr-42.preview.example.com"


def test_torn_down_feedback() -> None:
    closed = pr(state="closed")
    fb = desired(replace(preview(PreviewState.TORN_DOWN, pr=closed), deployed_sha=None), FACTS, has_comment=True)
    assert fb.comment is not None and "**torn down**" in fb.comment and "PR is closed" in fb.comment
    assert fb.status is None


def test_no_comment_for_unlabelled_pr_in_label_mode_but_why_not_for_labelled_fork() -> None:
    unlabelled = preview(PreviewState.NONE, pr=pr(labels=(), draft=True))
    assert desired(unlabelled, FACTS, has_comment=False).comment is None
    fork = preview(PreviewState.NONE, pr=pr(head_repo="mallory/shop"))
    text = desired(fork, FACTS, has_comment=False).comment
    assert text is not None and "**no preview**" in text and "fork" in text
    everyone = FeedbackFacts(label_mode=False, label=None, argocd_url=None)
    bot = preview(PreviewState.NONE, pr=pr(labels=(), author_type="Bot", author_login="dependabot[bot]"))
    assert "bot" in (desired(bot, everyone, has_comment=False).comment or "")


def test_findings_are_inert_in_the_comment() -> None:
    facts = replace(FACTS, findings=("web.yaml: Deployment/x: [no-namespace] ```\n<img src=x>",))
    text = desired(preview(PreviewState.FAILED), facts, has_comment=False).comment or ""
    block = text.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert "```" not in block and "\n" not in block and "no-namespace" in block


def test_the_comment_shows_at_most_max_posted_findings() -> None:
    many = tuple(f"web.yaml: Deployment/web-{n}: [no-namespace] sets metadata.namespace" for n in range(50))
    text = desired(preview(PreviewState.FAILED), replace(FACTS, findings=many), has_comment=False).comment or ""
    block = text.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert block.splitlines() == list(many[:MAX_POSTED_FINDINGS])


def config_with(**github: Any) -> Config:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x", **github}
    return parse_config(data, {"T": "tok"})


def test_github_auth_modes() -> None:
    assert config_with(auth={"token": "${T}"}).github.auth is not None
    app = config_with(auth={"app_id": 1, "private_key_file": "/k.pem", "installation_id": 9}).github
    assert app.auth is not None and app.auth.installation_id == 9
    assert config_with().github.resync_interval.total_seconds() == 300
    assert config_with().github.max_teardowns_per_resync == 10
    assert config_with(resync_interval="30s", api_url="https://ghe.example.com/api/v3/").github.api_url == \
        "https://ghe.example.com/api/v3"
    for bad in ({"token": "x", "app_id": 1, "private_key_file": "/k"}, {}, {"app_id": 1},
                {"private_key_file": "/k"}, {"token": "x", "extra": 1}):
        with pytest.raises(ConfigError):
            config_with(auth=bad)
    with pytest.raises(ConfigError):
        config_with(resync_interval="soon")


def argo_config(token: str | None) -> Config:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    data["argocd"] = {**data["argocd"], "url": "https://argocd.example.com"}
    if token:
        data["argocd"]["notifications_token"] = token
    return parse_config(data, {})


def test_notifications_configmap_validates_and_templates_render_json() -> None:
    files = bootstrap_files(argo_config("t0ken"))
    (cm,) = schemas.validate_bytes(files["argocd-notifications-cm.yaml"])
    data = cm["data"]
    service = yaml.safe_load(data["service.webhook.previewd-hooks"])
    assert service["url"].endswith("/hooks/argocd")
    assert {"name": "Authorization", "value": "Bearer $previewd-notifications-token"} in service["headers"]
    assert "t0ken" not in files["argocd-notifications-cm.yaml"].decode()  # a $secret reference, not the value
    for trigger, event in (("previewd-on-deployed", "deployed"), ("previewd-on-health-degraded", "health-degraded"),
                           ("previewd-on-sync-failed", "sync-failed")):
        (rule,) = yaml.safe_load(data[f"trigger.{trigger}"])
        template = yaml.safe_load(data[f"template.{rule['send'][0]}"])
        body = template["webhook"]["previewd-hooks"]["body"]
        rendered = json.loads(re.sub(r"\{\{[^}]*\}\}", "x", body))  # as Argo CD fills it in
        assert rendered["event"] == event and set(rendered) >= {"application", "revision"}


def test_preview_application_subscribes_only_when_notifications_are_configured() -> None:
    for token, expected in ((None, set()), ("t", {"previewd-on-deployed", "previewd-on-health-degraded",
                                                  "previewd-on-sync-failed"})):
        config = argo_config(token)
        repo = config.repository("acme/shop")
        assert repo is not None
        files = render_preview(config, repo, PreviewInput("acme/shop", 42, SHA, "2026-01-01T00:00:00Z"))
        (app,) = schemas.validate_bytes(files["application.yaml"])
        subscribed = {k.split("/subscribe.")[1].removesuffix(".previewd-hooks") for k in app["metadata"]["annotations"]
                      if k.startswith("notifications.argoproj.io/subscribe.")}
        assert subscribed == expected


def test_redeploy_annotation_renders_valid_application() -> None:
    config = argo_config("t")
    repo = config.repository("acme/shop")
    assert repo is not None
    files = render_preview(config, repo, PreviewInput("acme/shop", 42, SHA, "", redeploy=2))
    (app,) = schemas.validate_bytes(files["application.yaml"])
    assert app["spec"]["sources"][0]["kustomize"]["commonAnnotations"] == {"previewd.io/redeploy": "2"}
