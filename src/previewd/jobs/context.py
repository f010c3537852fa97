"""What every job receives: config, store and the adapters wired by the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from previewd.adapters.git import GitWorkspace
from previewd.adapters.store.sql import Store
from previewd.config import Config
from previewd.core.models import Preview
from previewd.core.ports import ChangedFiles, ImageResolver, NoImages, PreviewObserver

# (before, after) of every preview a job changed; observers are told about each pair.
Changed = list[tuple[Preview | None, Preview]]


@dataclass(frozen=True)
class RetryIn:
    """Returned by a periodic job whose remaining work waits on its own backoff: the worker
    runs it again after ``seconds`` instead of waiting for its interval."""

    seconds: float


@dataclass
class JobContext:
    config: Config
    store: Store
    workspace: GitWorkspace
    images: ImageResolver = field(default_factory=NoImages)
    changed_files: ChangedFiles | None = None  # canary.services needs it; None: no API access
    observers: list[PreviewObserver] = field(default_factory=list)
    adapters: dict[str, Any] = field(default_factory=dict)  # optional integrations by name
