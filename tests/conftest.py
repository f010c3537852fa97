"""Shared fixtures: a bare GitOps remote, a free port, a real registry, a throwaway PostgreSQL,
FakeGitHub on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import support
from tests.fakes import FakeGitHub
from tests.postgres_support import postgres  # noqa: F401  (session fixture: a throwaway PostgreSQL)
from tests.registry_support import Registry

# Hypothesis' default 200 ms deadline turns a loaded CI machine into flaky failures; the property
# tests judge behaviour, and time is measured by the benchmarks, never by tests.
settings.register_profile("previewd", deadline=None)
settings.load_profile("previewd")


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    return support.make_bare(tmp_path / "gitops.git")


@pytest.fixture
def port() -> int:
    return support.free_port()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A real docker-registry on loopback (no notifications, deletes enabled)."""
    with Registry(tmp_path / "registry") as reg:
        yield reg


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    """A fresh FakeGitHub (the GitHub REST API double) serving on loopback."""
    with FakeGitHub() as gh:
        yield gh
