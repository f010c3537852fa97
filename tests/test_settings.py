"""Configuration: the issue's example is accepted as written; every bad input names its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from previewd.config import parse_duration
from previewd.errors import ConfigError
from previewd.settings import load_config, parse_config

EXAMPLE = """\
server:
  listen: 127.0.0.1:8080
store:
  url: sqlite:///state/previewd.db
github:
  webhook_secret: ${PREVIEWD_WEBHOOK_SECRET}
gitops:
  url: /srv/gitops.git          # any git URL: a local path, file://, ssh or https
  branch: main
  path: previews
argocd:
  namespace: argocd
  project: previews
  destination_server: https://kubernetes.default.svc
repositories:
  - name: acme/shop
    trigger:
      labels: [preview]         # every label listed must be present; [] = every PR
      exclude_labels: [no-preview]
      drafts: false             # draft PRs get no preview
      forks: false              # PRs whose head repo differs from the base repo get none
      bots: false               # PRs opened by a Bot account get none
    deploy:
      repo_url: https://github.com/acme/shop.git
      path: deploy/preview      # Kustomize bundle in the PR repo, deployed at the head SHA
    host: "shop-pr-{number}.preview.example.com"
    route:                      # optional: expose one Service of the bundle at `host`
      service: web
      port: 80
      gateway: {name: preview-gateway, namespace: gateway-system}
"""
ENV = {"PREVIEWD_WEBHOOK_SECRET": "s3cret"}


def example() -> dict:
    return yaml.safe_load(EXAMPLE)


def problems(data: dict, env: dict[str, str] = ENV) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(data, env)
    return err.value.diagnostics()


def test_issue_example_is_accepted_as_written(tmp_path: Path) -> None:
    path = tmp_path / "previewd.yaml"
    path.write_text(EXAMPLE)
    config = load_config(path, ENV)
    assert config.github.webhook_secret is not None
    assert config.github.webhook_secret.get_secret_value() == "s3cret"
    repo = config.repository("ACME/Shop")
    assert repo is not None and repo.route is not None
    assert repo.route.gateway.namespace == "gateway-system"
    assert config.previews.quota.hard["requests.cpu"] == "2"  # the default baseline quota


def test_unknown_key_is_named_with_its_path() -> None:
    data = example()
    data["repositories"][0]["trigger"]["lables"] = ["x"]
    assert "repositories.0.trigger.lables: unknown key" in problems(data)


def test_bad_value_names_key_and_reason() -> None:
    data = example()
    data["repositories"][0]["route"]["port"] = 70000
    text = problems(data)
    assert "repositories.0.route.port" in text and "less than or equal to 65535" in text


def test_missing_environment_variable_is_an_error() -> None:
    text = problems(example(), env={})
    assert "github.webhook_secret" in text and "PREVIEWD_WEBHOOK_SECRET" in text


def test_bad_listen_and_store_url() -> None:
    data = example()
    data["server"]["listen"] = "8080"
    data["store"]["url"] = "mysql://x"
    text = problems(data)
    assert "server.listen" in text and "store.url" in text


def test_same_repo_name_under_two_owners_collides_with_default_template() -> None:
    data = example()
    other = yaml.safe_load(yaml.safe_dump(data["repositories"][0]))
    other["name"] = "other/shop"
    data["repositories"].append(other)
    assert "can produce the same namespace" in problems(data)
    data["previews"] = {"namespace_template": "pr-{number}-{owner}-{repo}"}
    assert len(parse_config(data, ENV).repositories) == 2


def test_digits_in_repo_names_can_collide_through_the_number() -> None:
    data = example()
    data["previews"] = {"namespace_template": "pr{number}{repo}"}
    a = yaml.safe_load(yaml.safe_dump(data["repositories"][0]))
    b = yaml.safe_load(yaml.safe_dump(data["repositories"][0]))
    a["name"], b["name"] = "acme/1x", "acme/x"  # pr + 1 + 1x == pr + 11 + x
    data["repositories"] = [a, b]
    assert "can produce the same namespace" in problems(data)


def test_repository_listed_twice_is_rejected() -> None:
    data = example()
    data["repositories"].append(data["repositories"][0])
    assert "listed twice" in problems(data)


@pytest.mark.parametrize(
    "template, reason",
    [
        ("{number}-{repo}", "literal prefix"),
        ("pr-{repo}", "{number} exactly once"),
        ("pr-{number}-{branch}", "unknown placeholder"),
        ("PR_{number}", "lower-case"),
    ],
)
def test_unsafe_namespace_templates_are_rejected(template: str, reason: str) -> None:
    data = example()
    data["previews"] = {"namespace_template": template}
    assert reason in problems(data)


def test_host_template_labels_are_checked() -> None:
    data = example()
    data["repositories"][0]["host"] = "shop_pr-{number}.example.com"
    assert "repositories.0.host" in problems(data)
    data["repositories"][0]["host"] = "x" * 60 + "-{number}.example.com"
    assert "repositories.0.host" in problems(data)


def test_route_without_host_is_rejected() -> None:
    data = example()
    del data["repositories"][0]["host"]
    assert "route is set but host is not" in problems(data)


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(path, ENV)
    path.write_text("a: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, ENV)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", ENV)


@pytest.mark.parametrize(
    "text, seconds", [("30s", 30), ("5m", 300), ("2h", 7200), ("7d", 604800), (15, 15)]
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_bad_duration() -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration("5 minutes")


@pytest.mark.parametrize("section, key", [("gitops", "url"), ("argocd", "gitops_repo_url")])
def test_passwords_in_git_urls_are_refused(section: str, key: str) -> None:
    data = example()
    data[section][key] = "https://bot:ghp_s3cret@github.com/acme/gitops.git"
    text = problems(data)
    assert f"{section}.{key}: Value error" not in text and f"{section}.{key}" in text
    assert "must not contain credentials" in text
    assert "ghp_s3cret" not in text


def test_deploy_repo_url_may_not_carry_a_password_but_ssh_users_are_fine() -> None:
    data = example()
    data["repositories"][0]["deploy"]["repo_url"] = "https://x:tok@github.com/acme/shop.git"
    assert "repositories.0.deploy.repo_url" in problems(data)
    data["repositories"][0]["deploy"]["repo_url"] = "ssh://git@github.com/acme/shop.git"
    data["gitops"]["url"] = "git@github.com:acme/gitops.git"
    parse_config(data, ENV)


def test_every_missing_environment_variable_is_reported_at_once() -> None:
    data = example()
    data["gitops"]["url"] = "${GITOPS_URL}"
    data["repositories"][0]["host"] = "${PREVIEW_DOMAIN}-{number}"
    with pytest.raises(ConfigError) as err:
        parse_config(data, {})
    assert err.value.problems == [
        "github.webhook_secret: environment variable PREVIEWD_WEBHOOK_SECRET is not set",
        "gitops.url: environment variable GITOPS_URL is not set",
        "repositories.0.host: environment variable PREVIEW_DOMAIN is not set",
    ]


@pytest.mark.parametrize("key, value", [
    (("repositories", 0, "trigger", "drafts"), "yes"),
    (("repositories", 0, "trigger", "forks"), "true"),
    (("repositories", 0, "route", "port"), "80"),
    (("server", "max_body_bytes"), 1.5),
    (("repositories", 0, "image_wait_timeout"), "30"),
    (("repositories", 0, "trigger", "bots"), 1),
])
def test_booleans_integers_and_durations_are_strict(key: tuple[str | int, ...], value: object) -> None:
    data = example()
    holder = data
    for part in key[:-1]:
        holder = holder.setdefault(part, {}) if isinstance(part, str) else holder[part]
    holder[key[-1]] = value
    assert ".".join(str(k) for k in key) + ":" in problems(data)


def test_a_whole_env_reference_takes_the_type_its_field_wants() -> None:
    data = example()
    data["repositories"][0]["trigger"]["drafts"] = "${DRAFTS}"
    data["repositories"][0]["route"]["port"] = "${PORT}"
    env = {**ENV, "PREVIEWD_WEBHOOK_SECRET": "12345", "DRAFTS": "true", "PORT": "8080"}
    config = parse_config(data, env)
    repo = config.repositories[0]
    assert repo.trigger.drafts is True and repo.route is not None and repo.route.port == 8080
    assert config.github.webhook_secret is not None
    assert config.github.webhook_secret.get_secret_value() == "12345"  # a string field stays text
    assert "trigger.drafts" in problems(data, {**env, "DRAFTS": "yes"})  # spelled true/false only
    assert "route.port" in problems(data, {**env, "PORT": "80x"})
    data["repositories"][0]["route"]["port"] = "${PORT}0"  # inside a longer string: always text
    assert "route.port" in problems(data, env)


def test_a_config_file_needs_the_webhook_secret_and_says_which_file(tmp_path: Path) -> None:
    data = example()
    del data["github"]
    path = tmp_path / "previewd.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_config(path, ENV)
    assert err.value.source == str(path)
    assert err.value.problems[0].startswith("github.webhook_secret: required")
    parse_config(data, ENV)  # data without a file (embedded defaults, tests) may leave it unset
