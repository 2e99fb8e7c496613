"""A real PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temporary directory, listening
on 127.0.0.1 at a free port, stopped and deleted at the end of the session.

Debian's ``postgresql`` package provides the binaries (``/usr/lib/postgresql/<version>/bin``;
``.ci/run`` installs it). PostgreSQL refuses to run as root, so under root (CI) the server runs as
the ``postgres`` user the package creates (or ``nobody``) through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(Exception):
    pass


def bindir() -> Path:
    """The newest installed PostgreSQL's binaries."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)],
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable("PostgreSQL is not installed (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    port: int
    user: str  # the OS user the server runs as ("" for the current user)
    bindir: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bins = bindir()
    user = ""
    if os.geteuid() == 0:
        for candidate in ("postgres", "nobody"):
            try:
                pwd.getpwnam(candidate)
            except KeyError:
                continue
            user = candidate
            break
        else:
            raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL as")
        if not shutil.which("runuser"):
            raise PostgresUnavailable("running as root and runuser (util-linux) is missing")
    root = Path(tempfile.mkdtemp(prefix="ecs-exposure-pg-"))
    try:
        if user:
            info = pwd.getpwnam(user)
            os.chown(root, info.pw_uid, info.pw_gid)
        server = PostgresServer(root, _free_port(), user, bins)
        data = root / "data"
        init = server._run(
            "initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        start = server._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if start.returncode != 0:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {start.stderr.strip()} {log[-500:]}")
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
