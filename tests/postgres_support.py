"""A throwaway PostgreSQL server for the store contract tests, started from Debian's binaries.

``postgres`` (session fixture) runs ``initdb`` + ``pg_ctl`` in a temporary directory, listening on
127.0.0.1 on a free port with trust authentication, and stops it at the end of the session.
PostgreSQL refuses to run as root: as root, the cluster belongs to ``nobody``. The server binaries
are required (``make test`` installs them: scripts/install-system-deps.sh); without them the
PostgreSQL half of the contract suite fails rather than silently skipping.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.support import free_port


def server_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/N/bin`` (Debian), else the directory of ``initdb`` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class PostgresServer:
    bin: Path
    root: Path
    port: int
    run_as: dict[str, Any]  # subprocess user/group arguments; empty unless we are root
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *argv: str) -> None:
        proc = subprocess.run([str(self.bin / argv[0]), *argv[1:]], cwd=self.root, capture_output=True,
                              text=True, **self.run_as)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                 "--no-sync")
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                 "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    binaries = server_binaries()
    if binaries is None:
        pytest.fail("PostgreSQL server binaries not found (Debian package 'postgresql'; "
                    "run `make system-deps`)")
    root = Path(tempfile.mkdtemp(prefix="previewd-pg-"))  # not under pytest's 0700 root-owned base
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    server = PostgresServer(binaries, root, free_port(), run_as)
    try:
        server.start()
    except RuntimeError as err:
        log = server.log()
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"{err}\n{log}") from err
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
