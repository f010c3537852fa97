"""What the release controller checks before it commits a ``release.yaml``: everything
``previewd release check`` and the config management plugin (``previewd release render``)
would check, so the controller never commits a file it would itself reject."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import jsonschema

from previewd.errors import PermanentError
from previewd.releases.contract import (
    AppEnvironment,
    ContractError,
    parse_release,
    published_schemas,
    same_owner,
)
from previewd.releases.render import render
from previewd.releases.scan import InvalidYaml, parse_yaml

RELEASE_SCHEMA = "release.schema.json"  # as published under schemas/ (tests keep them equal)


class RefusedRelease(PermanentError):
    """The edited ``release.yaml`` would not pass ``release check`` or render; not committed."""


@cache
def _release_schema() -> jsonschema.protocols.Validator:
    schema: dict[str, Any] = published_schemas()[RELEASE_SCHEMA]
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(schema)
    return validator


def release_problems(env: AppEnvironment, text: str, source: str,
                     environments: Sequence[str] | None) -> list[str]:
    """Every problem ``text`` (a release.yaml for ``env``) has, as ``source: reason`` lines."""
    data: Any
    try:
        data = parse_yaml(text)
    except InvalidYaml as err:
        return [f"{source}: {err}"]
    problems = [f"{source}: {'.'.join(str(p) for p in e.absolute_path) or '(file)'}: {e.message} "
                "(published schema)" for e in _release_schema().iter_errors(data)]
    try:
        release = parse_release(data, source, environments)
    except ContractError as err:
        return problems + [f"{source}: {p}" for p in err.problems]
    problems += [f"{source}: {p}" for p in same_owner(env, release)]
    if not problems:
        try:
            render(env, release)
        except PermanentError as err:
            problems.append(f"{source}: {err}")
    return problems


def check_release(env: AppEnvironment, text: str, source: str,
                  environments: Sequence[str] | None) -> None:
    """RefusedRelease naming every problem, unless ``text`` passes every check."""
    problems = release_problems(env, text, source, environments)
    if problems:
        raise RefusedRelease("refusing to commit: " + "; ".join(problems))
