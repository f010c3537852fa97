"""previewd: per-pull-request preview environments through GitOps, and registry-driven releases."""

__version__ = "0.1.0"
