"""Shared fixtures: a bare GitOps remote and a config written to a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import support
from tests.postgres_support import postgres  # noqa: F401  (session fixture: a throwaway PostgreSQL)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    return support.make_bare(tmp_path / "gitops.git")


@pytest.fixture
def port() -> int:
    return support.free_port()
