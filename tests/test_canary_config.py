"""``repositories[].canary``: strict, and rejected when it could capture another route's traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from previewd.changed_files import changed_services, check_glob, matches
from previewd.config.canary import MAX_CANARY_SERVICES, MAX_ENTRY_POINTS, MAX_GRPC_ROUTES, MAX_SERVICE_PATHS
from previewd.errors import ConfigError
from previewd.settings import parse_config
from tests.canary_support import canary_block, with_canary
from tests.support import base_config


def config_with(**changes: Any) -> dict[str, Any]:
    data = with_canary(base_config(Path("/state"), Path("/srv/gitops.git")))
    data["github"] = {"webhook_secret": "x"}
    canary = data["repositories"][0]["canary"]
    for key, value in changes.items():
        target = canary
        *path, leaf = key.split("__")
        for part in path:
            target = target[part]
        target[leaf] = value
    return data


def rejected(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(data, {})
    return str(err.value)


def test_the_example_loads() -> None:
    repo = parse_config(config_with(), {}).repository("acme/shop")
    assert repo is not None and repo.canary is not None
    assert repo.canary.routed_services == ["api", "store"]


@pytest.mark.parametrize("header", ["Host", "connection", "Transfer-Encoding", "X-Forwarded-For",
                                    "Cookie", "grpc-timeout", "baggage", "X Canary", "X-Canary:", "", "é"])
def test_header_that_could_collide_or_is_not_a_token_is_rejected(header: str) -> None:
    assert "header" in rejected(config_with(header=header))


def test_unknown_key_and_bad_stable_namespace_are_rejected() -> None:
    assert "stable" in rejected(config_with(stable_namespace="Apps_"))
    assert "weight" in rejected(config_with(weight=5))
    assert "stable_namespace" in rejected(config_with(stable_namespace="pr-stable"))


def test_edge_kind_fields_are_checked() -> None:
    data = config_with()
    data["repositories"][0]["canary"]["edge"].pop("gateway")
    assert "gateway" in rejected(data)
    assert "entry_points" in rejected(config_with(edge__entry_points=["web"]))
    traefik = with_canary(base_config(Path("/s"), Path("/g")), kind="traefik")
    traefik["github"] = {"webhook_secret": "x"}
    traefik["repositories"][0]["canary"]["edge"]["gateway"] = {"name": "e", "namespace": "g"}
    assert "gateway" in rejected(traefik)


def test_host_that_is_a_preview_host_is_rejected() -> None:
    # base_config's preview hosts are shop-pr-{number}.preview.example.com
    assert "preview host" in rejected(config_with(edge__host="shop-pr-7.preview.example.com"))
    assert "number" in rejected(config_with(edge__host="pr-{number}.example.com"))


def test_two_repositories_on_one_host_and_header_are_rejected() -> None:
    data = config_with()
    other = dict(data["repositories"][0], name="acme/other", host=None, route=None)
    other["canary"] = canary_block()
    data["repositories"].append(other)
    assert "collide" in rejected(data)
    other["canary"]["header"] = "X-Canary-Other"
    parse_config(data, {})


def test_services_must_map_every_routed_service() -> None:
    assert "store" in rejected(config_with(services=[{"name": "api", "paths": ["a/**"]}]))
    assert "neither" in rejected(config_with(services=[
        {"name": "api", "paths": ["a/**"]}, {"name": "store", "paths": ["b/**"]}, {"name": "web", "paths": ["c"]}]))
    assert "glob" in rejected(config_with(services=[
        {"name": "api", "paths": ["../x"]}, {"name": "store", "paths": ["b/**"]}]))


def test_count_limits_hold_at_the_limit_and_refuse_one_more() -> None:
    def grpc(n: int) -> list[dict[str, Any]]:
        return [{"service": f"g{i}", "port": 80} for i in range(n)]

    parse_config(config_with(grpc=grpc(MAX_GRPC_ROUTES), services=None), {})
    assert f"at most {MAX_GRPC_ROUTES} grpc" in rejected(config_with(grpc=grpc(MAX_GRPC_ROUTES + 1), services=None))

    paths = [f"services/api/{i}/**" for i in range(MAX_SERVICE_PATHS)]
    store = {"name": "store", "paths": ["b/**"]}
    parse_config(config_with(services=[{"name": "api", "paths": paths}, store]), {})
    too_many_paths = [{"name": "api", "paths": [*paths, "x/**"]}, store]
    assert f"1 to {MAX_SERVICE_PATHS} path globs" in rejected(config_with(services=too_many_paths))

    services = [{"name": f"s{i}", "paths": ["a/**"]} for i in range(MAX_CANARY_SERVICES + 1)]
    assert f"at most {MAX_CANARY_SERVICES} services" in rejected(config_with(services=services))

    def traefik(entry_points: list[str]) -> dict[str, Any]:
        data = with_canary(base_config(Path("/s"), Path("/g")), kind="traefik")
        data["github"] = {"webhook_secret": "x"}
        data["repositories"][0]["canary"]["edge"]["entry_points"] = entry_points
        return data

    entry_points = [f"ep{i}" for i in range(MAX_ENTRY_POINTS)]
    parse_config(traefik(entry_points), {})
    assert f"at most {MAX_ENTRY_POINTS} entry points" in rejected(traefik([*entry_points, "one-more"]))


def test_glob_matching() -> None:
    assert matches("services/api/**", "services/api/main.py")
    assert matches("services/api/**", "services/api/a/b/c.py")
    assert not matches("services/api/**", "services/apix/main.py")
    assert not matches("services/*/x.py", "services/a/b/x.py")
    assert matches("**/*.proto", "proto/store.proto") and matches("**/*.proto", "a/b/c.proto")
    assert matches("proto/[a-c]*.proto", "proto/b.proto") and not matches("proto/[!a-c]*.proto", "proto/b.proto")
    for bad in ["/abs", "a/../b", "a**/b", "a//b", "x[", "a b"]:
        with pytest.raises(ValueError):
            check_glob(bad)


def test_changed_services_names_the_file_and_glob() -> None:
    services = [("api", ["services/api/**"]), ("store", ["services/store/**", "proto/*.proto"])]
    chosen = changed_services(services, ["README.md", "proto/store.proto"])
    assert [(c.service, c.path, c.glob) for c in chosen] == [("store", "proto/store.proto", "proto/*.proto")]
    assert changed_services(services, ["docs/x.md"]) == []


@given(st.text(max_size=80))
def test_any_changed_file_name_is_only_compared(path: str) -> None:
    chosen = changed_services([("api", ["services/api/**"])], [path])
    assert chosen == [] or path.startswith("services/api/")
