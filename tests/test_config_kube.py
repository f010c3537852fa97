"""Config values previewd renders into manifests are validated as the Kubernetes API server
validates them: what ``check-config`` accepts renders a baseline the API server accepts."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from previewd.config.kube import quantity_value
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.errors import ConfigError
from previewd.settings import parse_config
from tests import schemas
from tests.support import base_config, write_config

SHA = "0123456789abcdef0123456789abcdef01234567"
PROTOCOLS = {"TCP", "UDP", "SCTP"}
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def with_previews(previews: dict[str, Any]) -> dict[str, Any]:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    data["previews"] = previews
    return data


def egress(**rule: Any) -> dict[str, Any]:
    return with_previews({"network": {"extra_egress": [{"namespace": "shared-services", **rule}]}})


def rendered_policies(data: dict[str, Any]) -> list[dict[str, Any]]:
    config = parse_config(data, {})
    repo = config.repository("acme/shop")
    assert repo is not None
    files = render_preview(config, repo, PreviewInput("acme/shop", 3, SHA))
    return schemas.validate_bytes(files["baseline/networkpolicies.yaml"])


def api_server_accepts_network_policy(policy: dict[str, Any]) -> bool:
    """The API server's NetworkPolicy rules previewd's values reach (ValidateNetworkPolicyPort,
    label selectors, ipBlock), written out independently of previewd's validators."""
    for rule in policy["spec"].get("egress", []):
        for port in rule.get("ports", []):
            if port.get("protocol", "TCP") not in PROTOCOLS:
                return False
            number, end = port.get("port"), port.get("endPort")
            if isinstance(number, int) and not 1 <= number <= 65535:
                return False
            if end is not None and (not isinstance(number, int) or not number <= end <= 65535):
                return False
        for peer in rule.get("to", []):
            for key, value in peer.get("podSelector", {}).get("matchLabels", {}).items():
                name = key.rpartition("/")[2]
                if not LABEL_NAME.match(name) or (value and not LABEL_NAME.match(value)):
                    return False
            if "ipBlock" in peer:
                cidr = peer["ipBlock"]["cidr"]
                try:
                    if str(ipaddress.ip_network(cidr)) != cidr:
                        return False
                except ValueError:
                    return False
    return True


@pytest.mark.parametrize("rule", [
    {"protocol": "tcp", "ports": [5432]},
    {"protocol": "HTTP", "ports": [80]},
    {"ports": [0]},
    {"ports": [-1]},
    {"ports": [70000]},
    {"ports": [True]},
    {"ports": ["5432"]},
    {"ports": [{"port": 9000, "end_port": 8000}]},
    {"ports": [{"port": 8000, "end_port": 70000}]},
    {"pod_labels": {"app": "has space"}},
    {"pod_labels": {"-bad": "x"}},
    {"pod_labels": {"Example.COM/app": "x"}},
    {"pod_labels": {"app": "x" * 64}},
    {"cidrs": ["10.0.0.0/8"]},  # namespace and cidrs together
])
def test_values_the_api_server_rejects_fail_config_load(rule: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_config(egress(**rule), {})


def test_check_config_reports_the_bad_protocol(tmp_path: Path) -> None:
    """The issue's case, through the CLI: one line, exit 2."""
    data = egress(protocol="tcp", ports=[5432])
    data["gitops"] = {"url": str(tmp_path / "gitops.git"), "workdir": str(tmp_path / "work")}
    proc = subprocess.run([sys.executable, "-m", "previewd.cli.main", "check-config",
                           str(write_config(tmp_path, data))], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stdout
    assert "previews.network.extra_egress.0.protocol" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ranges_cidrs_and_protocols_render_valid_policies() -> None:
    data = with_previews({"network": {"extra_egress": [
        {"namespace": "shared-services", "pod_labels": {"app.kubernetes.io/name": "db"}, "protocol": "UDP",
         "ports": [53, {"port": 8000, "end_port": 8100}]},
        {"cidrs": ["10.0.0.0/8", "2001:db8::/32"], "protocol": "SCTP", "ports": [9000]},
    ]}})
    policies = {p["metadata"]["name"]: p for p in rendered_policies(data)}
    ranged = policies["allow-egress-0-shared-services"]["spec"]["egress"][0]
    assert ranged["ports"] == [{"protocol": "UDP", "port": 53},
                               {"protocol": "UDP", "port": 8000, "endPort": 8100}]
    cidrs = policies["allow-egress-1-cidrs"]["spec"]["egress"][0]
    assert cidrs["to"] == [{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {"cidr": "2001:db8::/32"}}]
    assert all(api_server_accepts_network_policy(p) for p in policies.values())


@pytest.mark.parametrize("cidr", ["10.0.0.1/8", "10.0.0.0/33", "not-a-cidr", "10.0.0.0"])
def test_bad_cidrs_are_refused(cidr: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(with_previews({"network": {"extra_egress": [{"cidrs": [cidr]}]}}), {})


@settings(max_examples=150, deadline=None)
@given(protocol=st.sampled_from(["TCP", "UDP", "SCTP", "tcp", "HTTP", "udp", "", "ICMP"]),
       ports=st.lists(st.integers(min_value=-5, max_value=70_000) | st.builds(
           lambda a, b: {"port": a, "end_port": b},
           st.integers(min_value=-1, max_value=66_000), st.integers(min_value=-1, max_value=66_000)),
           max_size=3),
       labels=st.dictionaries(st.from_regex(r"[a-zA-Z0-9._/-]{0,12}", fullmatch=True),
                              st.from_regex(r"[a-zA-Z0-9._ -]{0,8}", fullmatch=True), max_size=2))
def test_whatever_loads_renders_what_the_api_server_accepts(protocol: str, ports: list[Any],
                                                            labels: dict[str, str]) -> None:
    data = egress(protocol=protocol, ports=ports, pod_labels=labels)
    try:
        policies = rendered_policies(data)
    except ConfigError:
        # Refused: then the API server would have refused it too.
        rule = {"spec": {"egress": [{"ports": [
            {"protocol": protocol, "port": p["port"], "endPort": p["end_port"]} if isinstance(p, dict)
            else {"protocol": protocol, "port": p} for p in ports],
            "to": [{"podSelector": {"matchLabels": labels}}]}]}}
        assert protocol not in PROTOCOLS or not api_server_accepts_network_policy(rule) or any(
            "/" in k and not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", k.rpartition("/")[0])
            for k in labels)
        return
    assert all(api_server_accepts_network_policy(p) for p in policies)


@pytest.mark.parametrize("hard", [
    {"requests.cpu": "lots"},
    {"requests.memory": "-1Gi"},
    {"count/pods": "1.5"},
    {"pods": "2.5"},
    {"cpus": "2"},
    {"bad key!": "1"},
])
def test_bad_quota_is_refused(hard: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        parse_config(with_previews({"quota": {"hard": hard}}), {})


@pytest.mark.parametrize("limits", [
    {"default": {"cpu": "3"}},  # above max (2)
    {"default_request": {"memory": "1Gi"}},  # above default (512Mi)
    {"max": {"memory": "256Mi"}},  # below default
    {"default": {"cpu": "half"}},
    {"default": {"cpus": "1"}},
])
def test_bad_limit_range_is_refused(limits: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ConfigError):
        parse_config(with_previews({"limit_range": limits}), {})


def test_quota_and_limits_with_extended_names_and_exponents_load() -> None:
    config = parse_config(with_previews({
        "quota": {"hard": {"requests.nvidia.com/gpu": "1", "count/deployments.apps": "5", "limits.memory": "8e9"}},
        "limit_range": {"default": {"cpu": "0.5", "memory": "512Mi"}, "max": {"cpu": "2", "memory": "4Gi"}},
    }), {})
    assert config.previews.quota.hard["limits.memory"] == "8e9"


SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "": 1, "m": Decimal("0.001"),
            "k": 1000, "M": 10**6, "G": 10**9, "E": 10**18, "n": Decimal("1e-9"), "u": Decimal("1e-6"),
            "e3": 1000, "E-2": Decimal("0.01")}


@given(whole=st.integers(min_value=0, max_value=10**6), frac=st.none() | st.integers(min_value=0, max_value=999),
       suffix=st.sampled_from(sorted(SUFFIXES)))
def test_quantities_parse_to_their_value(whole: int, frac: int | None, suffix: str) -> None:
    text = f"{whole}" if frac is None else f"{whole}.{frac:03d}"
    assert quantity_value(text + suffix) == Decimal(text) * SUFFIXES[suffix]


@given(st.text(alphabet="0123456789.+-eEKMGTmkiu x", max_size=8))
def test_quantity_parser_agrees_with_the_grammar(text: str) -> None:
    grammar = re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?|[eE][+-]?\d+)", text)
    try:
        quantity_value(text)
    except ValueError:
        assert grammar is None
    else:
        assert grammar is not None


def test_route_port_is_strict() -> None:
    data = with_previews({})
    data["repositories"][0]["route"]["port"] = 0
    with pytest.raises(ConfigError):
        parse_config(data, {})
    assert yaml.safe_dump(data)  # the data itself stays plain YAML


HOSTNAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")  # Gateway API


@settings(max_examples=60, deadline=None)
@given(host=st.from_regex(r"[a-z0-9{}.-]{1,40}", fullmatch=True) | st.sampled_from([
           "{repo}-pr-{number}.preview.example.com", "pr-{number}.{owner}.example.com", "{number}.x.io"]),
       owner=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}", fullmatch=True),
       repo=st.from_regex(r"[A-Za-z0-9._-]{1,100}", fullmatch=True),
       number=st.integers(min_value=1, max_value=2**31 - 1))
def test_accepted_host_templates_render_valid_route_and_names(host: str, owner: str, repo: str, number: int) -> None:
    """Route hostnames, namespace and label values previewd renders from config and repository
    names are what the API server accepts, for every template check-config lets through."""
    data = with_previews({})
    data["repositories"][0].update(name=f"{owner}/{repo}", host=host)
    try:
        config = parse_config(data, {})
    except ConfigError:
        return
    (repository,) = config.repositories
    files = render_preview(config, repository, PreviewInput(repository.name, number, SHA))
    (route,) = schemas.validate_bytes(files["baseline/route.yaml"])
    (hostname,) = route["spec"]["hostnames"]
    assert HOSTNAME.match(hostname) and len(hostname) <= 253 and all(len(p) <= 63 for p in hostname.split("."))
    (namespace,) = schemas.validate_bytes(files["baseline/namespace.yaml"])
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace["metadata"]["name"])
    for value in namespace["metadata"]["labels"].values():
        assert LABEL_NAME.match(value)
