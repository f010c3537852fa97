"""SCM providers: one module each, looked up by name. A new provider is one module + one line."""

from __future__ import annotations

from previewd.adapters.scm.github import GitHubScm

PROVIDERS = {"github": GitHubScm}
