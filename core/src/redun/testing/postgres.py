"""A throwaway PostgreSQL server for tests, started once per test session.

Use it from a conftest.py::

    from redun.testing.postgres import postgres_server  # noqa: F401

`postgres_server` is a session fixture returning a `PostgresServer`; call
``create_database()`` for a fresh, empty database URI per test. The cluster
lives in a temporary directory, listens on 127.0.0.1 only, and is stopped when
the test process exits. If the server binaries are absent, tests using it are
skipped with one line naming what is missing; with ``REDUN_REQUIRE_POSTGRES=1``
(CI sets it) they fail instead, so a missing server cannot pass unnoticed.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

BIN_ENV = "REDUN_TEST_PG_BIN"
REQUIRE_ENV = "REDUN_REQUIRE_POSTGRES"


def find_server_bin() -> Path | None:
    """Directory holding initdb and pg_ctl (REDUN_TEST_PG_BIN, Debian's layout, PATH)."""
    candidates = [os.environ.get(BIN_ENV, "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A running cluster; `create_database` hands out fresh databases."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.data_dir = root / "data"
        self.log_path = root / "server.log"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        self._counter = itertools.count()

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            # The server refuses to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self.start_server()

    def start_server(self) -> None:
        """Start the (initialized) cluster: again after `stop`, to end a simulated outage."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; ``mode="fast"`` writes out every commit first (a clean shutdown)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its SQLAlchemy URI."""
        import psycopg

        name = name or f"test_{next(self._counter)}"
        with psycopg.connect(self.url(driver="postgresql"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


_shared: PostgresServer | None = None


def shared_postgres_server() -> PostgresServer:
    """The one server of this process, started on first use and stopped at exit.

    Several conftest files may import the fixture; they all share this server.
    """
    global _shared
    if _shared is None:
        bin_dir = find_server_bin()
        if bin_dir is None:
            message = (
                f"POSTGRESQL TESTS NOT RUN: server binaries (initdb, pg_ctl) not found: "
                f"install postgresql or set {BIN_ENV}"
            )
            if os.environ.get(REQUIRE_ENV) == "1":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        root = Path(tempfile.mkdtemp(prefix="redun-pg-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        server = PostgresServer(bin_dir, root)
        server.start()
        atexit.register(_stop, server, root)
        _shared = server
    return _shared


def _stop(server: PostgresServer, root: Path) -> None:
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    return shared_postgres_server()
