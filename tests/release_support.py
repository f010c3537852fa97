"""Builders for release-controller tests: app-env documents derived from the reference example
and real state repositories (a bare remote seeded through a real clone)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.support import git, make_bare

DATA = Path(__file__).resolve().parent / "data" / "releases"
SEED_APP_ENV = DATA / "app-env.yaml"
SEED_RELEASE = DATA / "release.yaml"


def seed_app_env() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEED_APP_ENV.read_text())
    return data


def app_env(repository: str, *, tenant: str = "team-a", app: str = "app1",
            environment: str = "dev", mode: str | None = "auto", **policy: str) -> dict[str, Any]:
    """The reference app-env with the given claim, identity and deploy policy."""
    doc = copy.deepcopy(seed_app_env())
    doc["metadata"].update(name=f"{app}-{environment}", tenant=tenant, app=app,
                           environment=environment)
    doc["spec"]["target"]["namespace"] = f"app-{tenant}-{app}-{environment}"
    registry = doc["spec"]["registry"]
    registry["repository"] = repository
    registry["deployPolicy"] = {**({"mode": mode} if mode else {}), **policy}
    return doc


def env_path(ws: str = "ws-1", project: str = "p-1", tenant: str = "t-1") -> str:
    return f"workspaces/{ws}/projects/{project}/tenants/{tenant}"


RELEASE_TEMPLATE = """\
apiVersion: idp.meshcloud.io/v1alpha1
kind: AppRelease

metadata:
  tenant: {tenant}
  app: {app}
  environment: {environment}

# written by the release controller only
spec:
  image:
    repository: {repository}
    tag: "{tag}"          # Optional if digest present
    digest: "{digest}"    # Preferred immutable reference
  observedAt: "2025-12-29T13:42:10Z"
  observedBy: platform-release-controller
"""


def release_text(env: dict[str, Any], tag: str, digest: str) -> str:
    m = env["metadata"]
    return RELEASE_TEMPLATE.format(tenant=m["tenant"], app=m["app"], environment=m["environment"],
                                   repository=env["spec"]["registry"]["repository"], tag=tag,
                                   digest=digest)


def write_env(root: Path, path: str, env: dict[str, Any], release: str | None = None) -> None:
    directory = root / path
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "app-env.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    if release is not None:
        (directory / "release.yaml").write_text(release)


def state_repo(tmp: Path, envs: dict[str, tuple[dict[str, Any], str | None]],
               name: str = "state.git") -> Path:
    """A bare state repository whose first commit holds ``envs`` (path -> (app-env, release))."""
    bare = make_bare(tmp / name)
    seed = tmp / f"{name}-seed"
    git("clone", "--quiet", str(bare), str(seed))
    for path, (env, release) in envs.items():
        write_env(seed, path, env, release)
    (seed / "README.md").write_text("state repository\n")
    commit_all(seed, "seed state")
    return bare


def commit_all(clone: Path, message: str) -> None:
    """Commit everything in ``clone`` and push it, rebased on what the remote has by now."""
    who = ("-c", "user.name=platform", "-c", "user.email=platform@example.com")
    git("-C", str(clone), "add", "--all")
    git("-C", str(clone), *who, "commit", "--quiet", "-m", message)
    if git("-C", str(clone), "ls-remote", "origin", "main").strip():
        git("-C", str(clone), *who, "pull", "--quiet", "--rebase", "origin", "main")
    git("-C", str(clone), "push", "--quiet", "origin", "HEAD:main")


def changed_files(bare: Path, rev: str = "main") -> list[str]:
    """Files changed by the commit ``rev`` of a bare repo."""
    out = git("-C", str(bare), "show", "--format=", "--name-only", rev)
    return [line for line in out.splitlines() if line]


def show(bare: Path, path: str, rev: str = "main") -> str:
    return git("-C", str(bare), "show", f"{rev}:{path}")
