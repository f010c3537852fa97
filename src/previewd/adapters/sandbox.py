"""Run a build tool on attacker-controlled files with no network, bounded time, memory, output.

The confinement itself happens in ``previewd.adapters.confine`` (a fresh interpreter that
confines itself, then execs the tool); this side starts it, enforces the time limit on the whole
process group and reads back the bounded output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from previewd.adapters.confine import LAYERS_PREFIX, NO_SANDBOX
from previewd.adapters.confine import die_with_parent as die_with_parent  # for other bounded children
from previewd.errors import PermanentError


@dataclass(frozen=True)
class Confined:
    """What a confined run produced."""

    returncode: int
    stdout: bytes
    stderr: str
    layers: tuple[str, ...]  # the sandbox layers that were in force ("namespaces", "seccomp")
    timed_out: bool = False
    output_exceeded: bool = False  # killed for writing more than the output limit


def run_confined(tool: Path, args: list[str], tree: Path, *, timeout: float, memory: int, output: int,
                 namespaces: bool = True, seccomp: bool = True) -> Confined:
    """Run ``tool args...`` in ``tree`` (its working directory, read-only) inside the sandbox.

    ``memory`` bounds the address space, ``output`` each of stdout and stderr (bytes); after
    ``timeout`` seconds the process group is killed. PermanentError when no sandbox layer could be
    applied: the tool is then never run."""
    with tempfile.TemporaryDirectory(prefix="previewd-sandbox-") as tmp:
        work = Path(tmp)
        (work / "jail").mkdir()
        (work / "home").mkdir()
        spec = {"tool": str(tool), "tree": str(tree), "jail": str(work / "jail"), "home": str(work / "home"),
                "args": args, "memory": memory, "output": output,
                "namespaces": namespaces, "seccomp": seccomp}
        argv = [sys.executable, "-I", "-m", "previewd.adapters.confine", json.dumps(spec)]
        with (work / "out").open("wb") as out, (work / "err").open("wb") as err:
            returncode, timed_out = run_bounded(argv, out, err, timeout)
        stdout = (work / "out").read_bytes()
        lines = (work / "err").read_bytes()[:output].decode("utf-8", "replace").splitlines()
    layers: tuple[str, ...] = ()
    if lines and lines[0].startswith(LAYERS_PREFIX):
        layers = tuple(x for x in lines.pop(0)[len(LAYERS_PREFIX):].split(",") if x)
    stderr = "\n".join(lines)
    if returncode == NO_SANDBOX and not layers:
        raise PermanentError(f"the build sandbox is not available on this host, so the build was not run "
                             f"({stderr.strip()})")
    return Confined(returncode, stdout, stderr, layers, timed_out,
                    output_exceeded=returncode == -signal.SIGXFSZ)


def run_bounded(argv: list[str], out: IO[bytes], err: IO[bytes], timeout: float) -> tuple[int, bool]:
    """Run ``argv`` (a previewd interpreter) in a session of its own, writing to ``out`` and
    ``err``; after ``timeout`` seconds its whole process group is killed. (returncode, timed_out)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            start_new_session=True, env=interpreter_env())
    try:
        return proc.wait(timeout), False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(), True


def interpreter_env() -> dict[str, str]:
    """The interpreter needs no secrets: only what locates previewd's own installation."""
    keep = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k in keep}
