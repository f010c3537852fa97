"""``previewd release check`` over a state-repository checkout, and the bootstrap policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from previewd.cli.main import cli
from previewd.core.render.bootstrap import bootstrap_files
from previewd.errors import ConfigError
from previewd.settings import parse_config
from tests import schemas
from tests.release_support import app_env, env_path, release_text, seed_app_env, write_env
from tests.support import base_config

DIGEST = "sha256:" + "c" * 64


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["release", "check", *args])
    return result.exit_code, result.output


def test_clean_state_repo_passes(tmp_path: Path) -> None:
    for n in range(3):
        doc = app_env(f"harbor.example.tld/team-a/app{n}/dev", app=f"app{n}")
        write_env(tmp_path, env_path(tenant=f"t-{n}"), doc, release_text(doc, "1.0", DIGEST))
    code, out = run(str(tmp_path))
    assert code == 0, out
    assert "3 app-envs, 3 repositories, 0 problems" in out


def test_reports_every_problem_with_its_field(tmp_path: Path) -> None:
    a = app_env("harbor.example.tld/team-a/app1/dev")
    write_env(tmp_path, env_path(tenant="t-1"), a, release_text(a, "1.0", DIGEST))
    twin = app_env("Harbor.Example.TLD:443/team-a/app1/dev", app="app2")
    write_env(tmp_path, env_path(tenant="t-2"), twin)
    bad = seed_app_env()
    bad["spec"]["target"]["namespace"] = "platform-x"
    bad["spec"]["shell"] = "sh"
    write_env(tmp_path, env_path(tenant="t-3"), bad)
    mismatched = app_env("harbor.example.tld/team-c/app1/dev", tenant="team-c")
    write_env(tmp_path, env_path(tenant="t-4"), mismatched, release_text(a, "1.0", DIGEST))
    write_env(tmp_path, "workspaces/ws-1/stray", app_env("h.io/stray"))
    code, out = run(str(tmp_path))
    assert code == 1
    t = "workspaces/ws-1/projects/p-1/tenants"
    assert f"{t}/t-3/app-env.yaml: spec.target.namespace: 'platform-x'" in out
    assert f"{t}/t-3/app-env.yaml: spec.shell: unknown field" in out
    assert f"{t}/t-4/release.yaml: metadata.tenant: 'team-a' differs" in out
    assert f"{t}/t-4/release.yaml: spec.image.repository:" in out
    assert "workspaces/ws-1/stray/app-env.yaml: outside the layout" in out
    assert (f"repository harbor.example.tld/team-a/app1/dev is claimed by 2 app-envs "
            f"({t}/t-1, {t}/t-2)") in out


def test_files_that_are_not_utf8_yaml_are_reported_not_crashed_on(tmp_path: Path) -> None:
    doc = app_env("harbor.example.tld/team-a/app1/dev")
    write_env(tmp_path, env_path(tenant="t-1"), doc, release_text(doc, "1.0", DIGEST))
    release = tmp_path / env_path(tenant="t-1") / "release.yaml"
    release.write_bytes(b"\xff\xfe not utf-8")
    code, out = run(str(tmp_path))
    assert code == 1
    assert "release.yaml: not valid YAML" in out
    result = CliRunner().invoke(cli, ["release", "render", str(release.parent)])
    assert result.exit_code == 2 and "not valid YAML" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_environment_set_comes_from_options(tmp_path: Path) -> None:
    write_env(tmp_path, env_path(), app_env("h.io/a", environment="qa"))
    assert run(str(tmp_path))[0] == 1
    assert run(str(tmp_path), "--environment", "qa")[0] == 0


def test_bootstrap_writes_the_platform_namespace_policy(tmp_path: Path) -> None:
    raw = base_config(tmp_path, tmp_path / "gitops.git")
    plain = bootstrap_files(parse_config(raw, {"PREVIEWD_WEBHOOK_SECRET": "s"}))
    assert "platform-namespaces-policy.yaml" not in plain
    raw["releases"] = {"gitops": {"url": str(tmp_path / "state.git")},
                       "platform_identities": {"users": ["system:serviceaccount:meshstack:runner"],
                                               "groups": ["platform-admins"]}}
    files = bootstrap_files(parse_config(raw, {"PREVIEWD_WEBHOOK_SECRET": "s"}))
    policy, binding = schemas.validate_bytes(files["platform-namespaces-policy.yaml"])
    assert policy["kind"] == "ValidatingAdmissionPolicy"
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    rule = policy["spec"]["matchConstraints"]["resourceRules"][0]
    assert rule["resources"] == ["namespaces"] and "CREATE" in rule["operations"]
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    assert '"system:serviceaccount:meshstack:runner"' in variables["platform"]
    assert '"platform-admins"' in variables["platform"]
    (validation,) = policy["spec"]["validations"]
    assert validation["expression"] == ("!variables.name.startsWith('platform-') || "
                                        "variables.platform")
    assert yaml.safe_load(files["platform-namespaces-policy.yaml"].split(b"---")[0])


def test_releases_config_is_strict(tmp_path: Path) -> None:
    raw = base_config(tmp_path, tmp_path / "gitops.git")
    raw["releases"] = {"gitops": {"url": "/srv/state.git", "branch": "main", "path": "workspaces"},
                       "environments": ["dev", "staging", "prod"],
                       "api_token": "${PREVIEWD_RELEASE_TOKEN}", "poll_interval": "10m"}
    config = parse_config(raw, {"PREVIEWD_WEBHOOK_SECRET": "s", "PREVIEWD_RELEASE_TOKEN": "t"})
    assert config.releases is not None
    assert config.releases.poll_interval.total_seconds() == 600
    assert config.releases.manual_environments == ["prod"]
    raw["releases"]["manual_environments"] = ["live"]
    raw["releases"]["typo"] = 1
    with pytest.raises(ConfigError) as err:
        parse_config(raw, {"PREVIEWD_WEBHOOK_SECRET": "s", "PREVIEWD_RELEASE_TOKEN": "t"})
    assert "releases.typo: unknown key" in err.value.problems


def test_release_workdir_must_not_be_the_previews_workdir(tmp_path: Path) -> None:
    raw = base_config(tmp_path, tmp_path / "gitops.git")
    raw["releases"] = {"gitops": {"url": "/srv/state.git", "workdir": raw["gitops"]["workdir"]}}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, {"PREVIEWD_WEBHOOK_SECRET": "s"})
    assert err.value.problems == ["<root>: releases.gitops.workdir must differ from gitops.workdir"]
