"""The labels previewd puts on what it renders, defined once for every renderer."""

from __future__ import annotations

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY = {MANAGED_BY_KEY: "previewd"}  # previews, bootstrap, admission policies; the guard keys on it
