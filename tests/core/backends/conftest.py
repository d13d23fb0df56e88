"""Every state-store test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redun.backends.db import RedunBackendDb
from redun.testing.postgres import PostgresServer, postgres_server  # noqa: F401


@pytest.fixture(params=["sqlite", "postgres"])
def db_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/redun.db"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def backend(db_uri: str) -> Iterator[RedunBackendDb]:
    """A loaded backend with the latest schema."""
    backend = RedunBackendDb(db_uri)
    backend.load(migrate=True)
    yield backend
    backend.close()
