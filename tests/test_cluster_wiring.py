"""What previewd installs next to Argo CD fits what is already there: notification names never
collide with Argo CD's catalog, and every in-cluster URL previewd writes reaches a Service port
the shipped manifests expose."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from previewd.config import Config
from previewd.core.render.bootstrap import bootstrap_files
from previewd.core.render.notifications import subscription_annotations
from previewd.core.render.preview import PreviewInput, render_preview
from previewd.settings import parse_config
from tests.support import base_config

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Path(__file__).parent / "data" / "argocd-notifications-catalog-keys.txt"
DEPLOY = ROOT / "deploy" / "kubernetes" / "previewd.yaml"
SHA = "0123456789abcdef0123456789abcdef01234567"
DEFAULT_PORTS = {"http": 80, "https": 443}
# Services every cluster provides itself (the API server, which Argo CD's destination names).
CLUSTER_SERVICES = {("kubernetes", "default"): 443}


def notifications_config(**argocd: Any) -> Config:
    data = base_config(Path("/state"), Path("/srv/gitops.git"))
    data["github"] = {"webhook_secret": "x"}
    data["argocd"] = {**data["argocd"], "notifications_token": "t0ken", **argocd}
    return parse_config(data, {})


def catalog_keys() -> set[str]:
    lines = CATALOG.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def notifications_data(config: Config) -> dict[str, str]:
    cm = yaml.safe_load(bootstrap_files(config)["argocd-notifications-cm.yaml"])
    data: dict[str, str] = cm["data"]
    return data


def test_no_key_collides_with_the_argocd_catalog() -> None:
    data = notifications_data(notifications_config())
    assert len(catalog_keys()) == 16 and "trigger.on-deployed" in catalog_keys()
    assert not set(data) & catalog_keys()
    for key in data:  # service.webhook.<name>, template.<name>, trigger.<name>
        assert key.rpartition(".")[2].startswith("previewd-"), key


def test_triggers_send_own_templates_and_subscriptions_name_defined_keys() -> None:
    config = notifications_config()
    data = notifications_data(config)
    services = {k.rpartition(".")[2] for k in data if k.startswith("service.webhook.")}
    for key, body in data.items():
        if key.startswith("trigger."):
            for rule in yaml.safe_load(body):
                assert all(f"template.{t}" in data for t in rule["send"])
        if key.startswith("template."):
            assert set(yaml.safe_load(body)["webhook"]) <= services
    annotations = subscription_annotations(config)
    assert annotations
    for annotation in annotations:
        trigger, service = annotation.removeprefix("notifications.argoproj.io/subscribe.").split(".")
        assert f"trigger.{trigger}" in data and service in services
    # And the Applications previewd commits carry exactly these annotations.
    repo = config.repository("acme/shop")
    assert repo is not None
    app = yaml.safe_load(render_preview(config, repo, PreviewInput("acme/shop", 1, SHA))["application.yaml"])
    carried = {k for k in app["metadata"]["annotations"] if k.startswith("notifications.argoproj.io/")}
    assert carried == set(annotations)


def shipped() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(DEPLOY.read_text()) if d]


def shipped_config() -> Config:
    (config_map,) = [d for d in shipped() if d["kind"] == "ConfigMap"]
    data = yaml.safe_load(config_map["data"]["previewd.yaml"])
    data["argocd"]["notifications_token"] = "t0ken"
    return parse_config(data, {"PREVIEWD_WEBHOOK_SECRET": "x", "PREVIEWD_GITOPS_TOKEN": "y"})


def in_cluster_urls(config: Config) -> list[str]:
    """Every http(s) URL in what previewd writes whose host is a cluster Service name."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            if value.startswith(("http://", "https://")) and ".svc" in (urlsplit(value).hostname or ""):
                found.append(value)
            elif "\n" in value:
                with contextlib.suppress(yaml.YAMLError):  # template bodies are not YAML
                    walk(yaml.safe_load(value))  # ConfigMap values holding YAML documents

    for body in bootstrap_files(config).values():
        for doc in yaml.safe_load_all(body):
            walk(doc)
    return found


def resolve(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shipped Service and its port that ``url`` reaches (AssertionError if none)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    labels = host.removesuffix(".cluster.local").split(".")
    assert len(labels) == 3 and labels[2] == "svc", f"{url}: not <service>.<namespace>.svc"
    name, namespace = labels[0], labels[1]
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    services = [d for d in shipped() if d["kind"] == "Service"
                and (d["metadata"]["name"], d["metadata"]["namespace"]) == (name, namespace)]
    assert services, f"{url}: deploy/kubernetes ships no Service {namespace}/{name}"
    matching = [p for p in services[0]["spec"]["ports"] if p["port"] == port]
    assert matching, f"{url}: Service {namespace}/{name} exposes {[p['port'] for p in services[0]['spec']['ports']]}"
    return services[0], matching[0]


def test_every_in_cluster_url_reaches_a_shipped_service_port() -> None:
    for config in (notifications_config(), shipped_config()):
        urls = in_cluster_urls(config)
        assert config.argocd.notifications_url in urls
        for url in urls:
            parts = urlsplit(url)
            name, namespace = (parts.hostname or "").split(".")[:2]
            if (name, namespace) in CLUSTER_SERVICES:
                assert (parts.port or DEFAULT_PORTS[parts.scheme]) == CLUSTER_SERVICES[(name, namespace)]
                continue
            service, port = resolve(url)
            # ... and the Service's target port is the container port previewd listens on.
            (deployment,) = [d for d in shipped() if d["kind"] == "Deployment"]
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            target = next(p for p in container["ports"] if port["targetPort"] in (p["name"], p["containerPort"]))
            assert target["containerPort"] == shipped_config().server.port
            assert deployment["spec"]["selector"]["matchLabels"].items() <= service["spec"]["selector"].items()


def test_a_url_to_a_port_the_service_does_not_expose_is_caught() -> None:
    """The check above can fail: the old default (port 8080 on the Service) does not resolve."""
    config = notifications_config(notifications_url="http://previewd.previewd.svc:8080/hooks/argocd")
    (url,) = [u for u in in_cluster_urls(config) if "previewd.previewd" in u]
    try:
        resolve(url)
    except AssertionError as err:
        assert "exposes [80]" in str(err)
    else:
        raise AssertionError("port 8080 resolved although the Service exposes only 80")
