"""Child side of the build sandbox: confine this process, then exec the build tool.

Run as ``python -I -m previewd.adapters.confine SPEC_JSON`` by ``previewd.adapters.sandbox``
(a fresh single-threaded interpreter, so nothing runs between ``fork`` and the confinement).
Two independent layers, each of which alone takes the network away:

1. namespaces: a new user, mount and network namespace (no interfaces up, not even loopback)
   and a ``chroot`` into an empty tmpfs holding only the build tool and the build tree, both
   mounted read-only;
2. seccomp: ``socket(2)`` and ``io_uring_setup(2)`` fail with EACCES (libseccomp).

Whichever layer the host refuses is skipped (unprivileged user namespaces are often disabled in
containers); if both are refused the child exits with ``NO_SANDBOX`` and execs nothing.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

NO_SANDBOX = 125  # exit status: neither layer could be applied; nothing was run
LAYERS_PREFIX = "previewd-sandbox: "  # first stderr line: the layers in force

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
MAX_OPEN_FILES = 256  # file descriptors of the build tool
TMPFS_OPTIONS = "size=1m,mode=0755"  # the jail's own files: empty directories and mount points

# Where the build tool and the tree appear inside the jail.
JAIL_TOOL = "/tool"
JAIL_TREE = "/tree"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if v is None else v.encode() for v in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _bind_read_only(source: str, target: str) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter_namespaces(jail: Path, tool: Path, tree: Path) -> None:
    """New user+mount+network namespaces, then chroot into ``jail`` (an empty directory)."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates back to the host
    _mount("previewd-jail", str(jail), "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS)
    (jail / JAIL_TOOL.lstrip("/")).touch()
    (jail / JAIL_TREE.lstrip("/")).mkdir()
    (jail / "tmp").mkdir()
    _bind_read_only(str(tool), str(jail / JAIL_TOOL.lstrip("/")))
    _bind_read_only(str(tree), str(jail / JAIL_TREE.lstrip("/")))
    _mount(None, str(jail), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, TMPFS_OPTIONS)
    _mount("previewd-tmp", str(jail / "tmp"), "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS)
    os.chdir(jail)
    os.chroot(".")
    os.chdir("/")


def socket_filter() -> Any:
    """A seccomp filter (not loaded yet): every ``socket(2)`` and ``io_uring_setup(2)`` fails
    with EACCES. Built before the chroot, which hides libseccomp."""
    import pyseccomp as seccomp  # libseccomp's API, over ctypes

    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in ("socket", "io_uring_setup"):
        flt.add_rule(seccomp.ERRNO(errno.EACCES), call)
    return flt


def limit(memory: int, output: int) -> None:
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, output),
                         (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, MAX_OPEN_FILES)):
        resource.setrlimit(which, (value, value))


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (previewd gone: so is the build or check)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv: list[str]) -> int:
    spec: dict[str, Any] = json.loads(argv[1])
    die_with_parent()
    tool, tree, jail = Path(spec["tool"]), Path(spec["tree"]), Path(spec["jail"])
    applied, refused = [], []
    flt = None
    if spec.get("seccomp", True):
        try:
            flt = socket_filter()
        except Exception as err:  # libseccomp missing
            refused.append(f"seccomp: {err}")
    if spec.get("namespaces", True):
        try:
            enter_namespaces(jail, tool, tree)
            tool, tree = Path(JAIL_TOOL), Path(JAIL_TREE)
            applied.append("namespaces")
        except OSError as err:
            refused.append(f"namespaces: {err}")
    if flt is not None:
        try:
            flt.load()  # also sets no_new_privs
            applied.append("seccomp")
        except Exception as err:  # the kernel refuses filters
            refused.append(f"seccomp: {err}")
    if not applied:
        sys.stderr.write("no sandbox available, refusing to run the build: " + "; ".join(refused) + "\n")
        return NO_SANDBOX
    limit(int(spec["memory"]), int(spec["output"]))
    for sig in (signal.SIGXFSZ, signal.SIGPIPE):  # Python ignores these; the tool must die of them
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(tree)
    env = {"PATH": "/nonexistent", "HOME": "/tmp" if "namespaces" in applied else str(spec["home"]),
           "LC_ALL": "C", "KUBECONFIG": "/dev/null", "GIT_ALLOW_PROTOCOL": "file",
           "GIT_SSH_COMMAND": "false", "GIT_TERMINAL_PROMPT": "0"}
    sys.stderr.write(f"{LAYERS_PREFIX}{','.join(applied)}\n")  # the parent strips this line
    sys.stderr.flush()
    os.execve(str(tool), [str(tool), *spec["args"]], env)
    return NO_SANDBOX  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
