"""One bundle check in its own process, so it has its own time and memory budget.

``run_check`` starts ``python -I -m previewd.jobs.bundle_check_run ARCHIVE SUBDIR WHAT``: the
child extracts only the bundle directory from the (already downloaded) tarball, lints it and
prints its findings as JSON. A check that runs out of time or memory is a failed check with a
finding that says so: it is never retried in a loop and never passes.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
from pathlib import Path

from previewd.adapters import kustomize
from previewd.adapters.sandbox import die_with_parent, run_bounded
from previewd.adapters.scm.tarball import extract_subtree
from previewd.core.lint import Finding
from previewd.errors import PermanentError, TransientError
from previewd.jobs.lint_bundle import lint_staged

CHECK_TIMEOUT = 150.0  # seconds for one check: extraction, the build (itself bounded) and the lint
CHECK_MEMORY = 3 * 1024**3  # address space of the check process (the build child gets less)
MAX_FINDINGS = 50  # stored per check (the comment shows core.feedback.MAX_POSTED_FINDINGS)
MAX_REPORT_BYTES = 256 * 1024  # the child's JSON answer
MAX_ERROR_BYTES = 4096  # of the child's stderr, read back for the retry message
TEMPORARY = 75  # the child's exit status when the archive was unreadable (retry the download)


def run_check(archive: Path, subdir: str, what: str) -> list[str]:
    """The findings for the bundle at ``subdir`` of ``archive`` (empty: clean). TransientError
    when the archive was unreadable."""
    argv = [sys.executable, "-I", "-m", "previewd.jobs.bundle_check_run", str(archive), subdir, what]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        returncode, timed_out = run_bounded(argv, out, err, CHECK_TIMEOUT)
        if timed_out:
            return [_budget(f"the bundle check did not finish within {CHECK_TIMEOUT:.0f}s")]
        out.seek(0)
        report = out.read(MAX_REPORT_BYTES)
        err.seek(0)
        error = err.read(MAX_ERROR_BYTES).decode("utf-8", "replace").strip().splitlines()
    if returncode == TEMPORARY:
        raise TransientError(error[-1] if error else f"tarball of {what} is unreadable")
    try:
        findings = json.loads(report)["findings"]
        if returncode == 0 and isinstance(findings, list):
            return [str(f) for f in findings][:MAX_FINDINGS]
    except (ValueError, KeyError, TypeError):
        pass
    # Killed by its memory limit (MemoryError, a failed allocation) or another crash.
    return [_budget(f"the bundle check failed (exit {returncode}); it may use at most "
                    f"{CHECK_MEMORY // 1024**2} MB")]


def _budget(message: str) -> str:
    return str(Finding("-", "-", "check-budget", message))


def _child(archive: Path, subdir: str, what: str) -> int:
    die_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (CHECK_MEMORY, CHECK_MEMORY))
    with tempfile.TemporaryDirectory(prefix="previewd-check-") as tmp:
        stage = Path(tmp)
        try:
            extract_subtree(archive, subdir, stage / kustomize.STAGED_BUNDLE, what)
            findings = [str(f) for f in lint_staged(stage)]
        except TransientError as err:
            sys.stderr.write(err.diagnostics() + "\n")
            return TEMPORARY
        except PermanentError as err:
            findings = [str(Finding("-", "-", "bundle", err.diagnostics()))]
    sys.stdout.write(json.dumps({"findings": findings[:MAX_FINDINGS]}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
