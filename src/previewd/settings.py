"""Configuration loading: the only module that reads config files and the environment.

``load_config`` reads ``previewd.yaml``, substitutes ``${VAR}`` from the environment and
validates strictly against ``previewd.config`` (unknown keys are errors). Every problem is
reported with its key path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from previewd.config import Config, GithubAuthConfig, GitopsConfig, StoreConfig
from previewd.errors import ConfigError, validation_problems

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_private_key(auth: GithubAuthConfig) -> str:
    """The GitHub App's PEM private key."""
    if auth.private_key_file is None:
        raise ConfigError(["github.auth.private_key_file: not set"])
    try:
        return Path(auth.private_key_file).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"github.auth.private_key_file: cannot read: {err.strerror}"]) from None


def substitute_env(data: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` in every string; a missing variable is an error naming the key."""
    if isinstance(data, dict):
        return {k: substitute_env(v, env, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute_env(v, env, f"{path}.{i}") for i, v in enumerate(data)]
    if isinstance(data, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError([f"{path or '<root>'}: environment variable {name} is not set"])
            return env[name]

        return _ENV_REF.sub(replace, data)
    return data


def parse_config(data: Any, env: Mapping[str, str], source: str = "config") -> Config:
    """Validate already-parsed YAML data into a Config."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["<root>: expected a mapping of sections"], source)
    try:
        substituted = substitute_env(data, env)
    except ConfigError as err:
        raise ConfigError(err.problems, source) from None
    try:
        return Config.model_validate(substituted)
    except ValidationError as err:
        raise ConfigError(validation_problems(err), source) from None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a ``previewd.yaml``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"cannot read {file}: {err.strerror}"], str(file)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError([f"not valid YAML: {err}"], str(file)) from None
    return parse_config(data, os.environ if env is None else env, str(file))


STATE_DIR = Path(".previewd")


def embedded_defaults(state_dir: Path = STATE_DIR) -> Config:
    """The configuration ``previewd serve`` runs on when no config file is given."""
    return Config(
        store=StoreConfig(url=f"sqlite:///{state_dir}/previewd.db"),
        gitops=GitopsConfig(url=str(state_dir / "gitops.git"), workdir=str(state_dir / "gitops-work")),
    )
