"""One preview's GitOps directory: the Application plus its baseline resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from previewd import naming
from previewd.core.limits import (
    MAX_ANNOTATION_VALUE_CHARS,
    MAX_ANNOTATIONS_BYTES,
    PR_NUMBER_MAX,
    PR_NUMBER_MIN,
)
from previewd.core.render import application, baseline
from previewd.core.render.labels import MANAGED_BY
from previewd.core.render.routes import ROUTE_KINDS
from previewd.core.render.routes.canary import CanaryTarget
from previewd.core.render.routes.common import RouteSpec
from previewd.core.render.routes.preview_canary import CanaryRender, render_canary, selected_services
from previewd.core.render.yamlout import dump_all
from previewd.core.values import normal_timestamp, text_problem

if TYPE_CHECKING:
    from previewd.config import Config, RepositoryConfig

BASELINE_DIR = "baseline"


@dataclass(frozen=True)
class PreviewInput:
    """The facts a preview is rendered from; nothing here comes from PR free text."""

    repo: str  # owner/name exactly as configured
    number: int
    head_sha: str
    created_at: str = ""
    images: dict[str, str] = field(default_factory=dict)  # image name -> name@sha256:...
    redeploy: int = 0  # bumped by ``/preview redeploy``: restarts the workloads at the same commit
    canary_services: tuple[str, ...] | None = None  # services the PR changed (``canary.services``)


@dataclass(frozen=True)
class PreviewNames:
    namespace: str
    application: str
    host: str | None
    directory: str


def check_number(number: int) -> int:
    """``number`` if it is a PR number (1 .. 2**31-1); ValueError otherwise, so ``-1`` can never
    name the same Namespace and Application as PR 1."""
    if type(number) is not int or not PR_NUMBER_MIN <= number <= PR_NUMBER_MAX:
        raise ValueError(f"PR number {number!r} is not an integer {PR_NUMBER_MIN}..{PR_NUMBER_MAX}")
    return number


def checked_annotations(annotations: dict[str, str]) -> dict[str, str]:
    """``annotations`` if every value is at most ``MAX_ANNOTATION_VALUE_CHARS`` of valid text and
    all of them together stay within Kubernetes' ``MAX_ANNOTATIONS_BYTES``; ValueError otherwise."""
    total = 0
    for key, value in annotations.items():
        problem = text_problem(value, MAX_ANNOTATION_VALUE_CHARS)
        if problem:
            raise ValueError(f"annotation {key} {problem}")
        total += len(key.encode()) + len(value.encode())
    if total > MAX_ANNOTATIONS_BYTES:
        raise ValueError(f"annotations total {total} bytes, over {MAX_ANNOTATIONS_BYTES}")
    return annotations


def names_for(config: Config, repo: RepositoryConfig, number: int) -> PreviewNames:
    check_number(number)
    namespace = naming.namespace_name(config.previews.namespace_template, repo.name, number)
    host = naming.host_name(repo.host, repo.name, number) if repo.host else None
    return PreviewNames(
        namespace=namespace,
        application=namespace,
        host=host,
        directory=naming.preview_dir(config.gitops.path, repo.name, number),
    )


def labels_for(repo: str, number: int) -> dict[str, str]:
    check_number(number)
    return {
        **MANAGED_BY,
        "previewd.io/pr": str(int(number)),
        "previewd.io/repository": naming.repo_label_value(repo),
    }


def render_preview(config: Config, repo: RepositoryConfig, data: PreviewInput) -> dict[str, bytes]:
    """Every file of the preview directory, relative to it, as byte-stable YAML."""
    if not _is_sha(data.head_sha):
        raise ValueError(f"head SHA {data.head_sha!r} is not a 40-hex-digit commit id")
    names = names_for(config, repo, data.number)
    labels = labels_for(repo.name, data.number)
    pr_url = f"{config.github.web_url.rstrip('/')}/{repo.name}/pull/{int(data.number)}"
    try:  # stored in normal form by intake; anything else never reaches an annotation
        created_at = normal_timestamp(data.created_at) if data.created_at else ""
    except ValueError as err:
        raise ValueError(f"created_at {err}") from None
    annotations = checked_annotations({
        "previewd.io/repository": repo.name,
        "previewd.io/pr-url": pr_url,
        "previewd.io/head-sha": data.head_sha,
        "previewd.io/created-at": created_at,
    })
    canary = CanaryRender()
    if repo.canary is not None:
        target = CanaryTarget(data.number, names.namespace,
                              selected_services(repo.canary, data.canary_services), labels)
        canary = render_canary(config, repo.canary, target, names.application, names.directory,
                               BASELINE_DIR, {"previewd.io/pr-url": pr_url})
    files: dict[str, bytes] = {
        **canary.files,
        f"{BASELINE_DIR}/namespace.yaml": dump_all(
            [baseline.namespace(names.namespace, labels, annotations)]
        ),
        f"{BASELINE_DIR}/resourcequota.yaml": dump_all(
            [baseline.resource_quota(names.namespace, labels, config.previews.quota.hard)]
        ),
        f"{BASELINE_DIR}/limitrange.yaml": dump_all(
            [baseline.limit_range(names.namespace, labels, config.previews.limit_range)]
        ),
        f"{BASELINE_DIR}/networkpolicies.yaml": dump_all(
            baseline.network_policies(
                names.namespace,
                labels,
                config.previews.network,
                [repo.route.gateway.namespace] if repo.route else [],
                canary.admits,
            )
        ),
    }
    if repo.route and names.host:
        spec = RouteSpec(
            name="preview",
            namespace=names.namespace,
            host=names.host,
            service=repo.route.service,
            port=repo.route.port,
            gateway_name=repo.route.gateway.name,
            gateway_namespace=repo.route.gateway.namespace,
            labels=labels,
        )
        files[f"{BASELINE_DIR}/route.yaml"] = dump_all(ROUTE_KINDS[repo.route.kind](spec))
    files["application.yaml"] = dump_all(
        [
            application.application(
                config,
                repo,
                names,
                labels,
                checked_annotations({"previewd.io/pr-url": pr_url, "previewd.io/head-sha": data.head_sha}),
                data.head_sha,
                f"{names.directory}/{BASELINE_DIR}",
                data.images,
                data.redeploy,
            )
        ]
    )
    return dict(sorted(files.items()))


def _is_sha(value: str) -> bool:
    return len(value) == 40 and all(c in "0123456789abcdef" for c in value)
