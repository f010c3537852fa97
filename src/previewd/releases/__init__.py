"""The release controller: a registry push to the repository that exactly one
``app-env.yaml`` claims becomes one ``release.yaml`` commit in the GitOps state repository.

``contract``, ``matching``, ``policy``, ``editing``, ``render`` and ``scan`` are pure (scan
reads a checkout it is given); ``controller`` runs them against git, the registry and the store.
"""
