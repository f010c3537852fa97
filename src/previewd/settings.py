"""Configuration loading: the only module that reads config files and the environment.

``load_config`` reads ``previewd.yaml``, substitutes ``${VAR}`` from the environment and
validates strictly against ``previewd.config``: unknown keys are errors and no value is
coerced (``"yes"`` is not a boolean, ``"8080"`` not an integer). A value that is exactly one
``${VAR}`` is text from the environment; where its field wants a boolean or a number it counts
as one when the text spells it (``true``/``false``, decimal digits). Every problem is reported
at once, each with its key path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from previewd.config import Config, GitopsConfig, StoreConfig
from previewd.errors import ConfigError, validation_problems

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


Location = tuple[str | int, ...]
# Strict types that text from the environment may stand for, and how the text must spell them.
_ENV_TYPES: dict[str, tuple[re.Pattern[str], Callable[[str], object]]] = {
    "bool_type": (re.compile(r"true|false"), lambda text: text == "true"),
    "int_type": (re.compile(r"-?[0-9]+"), int),
    "float_type": (re.compile(r"-?[0-9]+(\.[0-9]+)?"), float),
}


@dataclass
class Substituted:
    """Config data after ``${VAR}`` substitution: the data, every variable that was not set (by
    key path), and the values that were exactly one ``${VAR}`` (candidates for typing)."""

    data: Any
    missing: list[str] = field(default_factory=list)
    whole: dict[Location, str] = field(default_factory=dict)


def substitute_env(data: Any, env: Mapping[str, str]) -> Substituted:
    """Replace ``${VAR}`` in every string, collecting every unset variable instead of stopping
    at the first."""
    result = Substituted(None)

    def walk(value: Any, loc: Location) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*loc, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*loc, i)) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                key = ".".join(str(p) for p in loc) or "<root>"
                result.missing.append(f"{key}: environment variable {name} is not set")
                return match.group(0)
            return env[name]

        text = _ENV_REF.sub(replace, value)
        whole = _ENV_REF.fullmatch(value)
        if whole is not None and whole.group(1) in env:
            result.whole[loc] = text
        return text

    result.data = walk(data, ())
    return result


def _type_env_values(data: Any, whole: dict[Location, str], error: ValidationError) -> bool:
    """Give a value that was exactly ``${VAR}`` the strict type its field wants, when the text
    spells it (``true``/``false``, decimal digits); False when nothing could be typed."""
    typed = False
    for item in error.errors():
        loc = tuple(item["loc"])
        rule = _ENV_TYPES.get(item["type"])
        if rule is None or loc not in whole or not rule[0].fullmatch(whole[loc]):
            continue
        holder = data
        for part in loc[:-1]:
            holder = holder[part]
        holder[loc[-1]] = rule[1](whole[loc])
        typed = True
    return typed


def parse_config(data: Any, env: Mapping[str, str], source: str = "config", *,
                 from_file: bool = False) -> Config:
    """Validate already-parsed YAML data into a Config: the one validation ``check-config``,
    ``serve`` and every other command run. ``from_file`` adds what a config file must set
    (``serve`` runs without a file only on embedded defaults)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["<root>: expected a mapping of sections"], source)
    substituted = substitute_env(data, env)
    problems = list(substituted.missing)
    if from_file and not (isinstance(data.get("github"), dict) and data["github"].get("webhook_secret")):
        problems.append("github.webhook_secret: required when a config file is used "
                        "(serve verifies every GitHub webhook with it)")
    if substituted.missing:
        raise ConfigError(problems, source)
    try:
        config = _validate(substituted)
    except ValidationError as err:
        raise ConfigError(problems + validation_problems(err), source) from None
    if problems:
        raise ConfigError(problems, source)
    return config


def _validate(substituted: Substituted) -> Config:
    """Strict validation; a ``${VAR}`` value is retyped once if its field wants a bool or a number."""
    try:
        return Config.model_validate(substituted.data)
    except ValidationError as err:
        if not _type_env_values(substituted.data, substituted.whole, err):
            raise
    return Config.model_validate(substituted.data)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a ``previewd.yaml``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ConfigError([f"cannot read {file}: {reason}"], str(file)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError([f"not valid YAML: {' '.join(str(err).split())}"], str(file)) from None
    return parse_config(data, os.environ if env is None else env, str(file), from_file=True)


STATE_DIR = Path(".previewd")


def embedded_defaults(state_dir: Path = STATE_DIR) -> Config:
    """The configuration ``previewd serve`` runs on when no config file is given."""
    return Config(
        store=StoreConfig(url=f"sqlite:///{state_dir}/previewd.db"),
        gitops=GitopsConfig(url=str(state_dir / "gitops.git"), workdir=str(state_dir / "gitops-work")),
    )
