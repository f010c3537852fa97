"""The GitHub App's credentials: the config names the key file, this adapter reads it."""

from __future__ import annotations

from pathlib import Path

from previewd.config import GithubAuthConfig
from previewd.errors import ConfigError


def read_private_key(auth: GithubAuthConfig) -> str:
    """The GitHub App's PEM private key."""
    if auth.private_key_file is None:
        raise ConfigError(["github.auth.private_key_file: not set"])
    try:
        return Path(auth.private_key_file).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"github.auth.private_key_file: cannot read: {err.strerror}"]) from None
