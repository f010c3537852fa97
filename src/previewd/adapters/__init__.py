"""Adapters: the I/O side of every port (git, SCM providers, the store, the registry, Kustomize)."""
