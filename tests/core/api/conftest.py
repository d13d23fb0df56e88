"""Databases for the API tests: SQLite, and a real PostgreSQL server where provenance matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from redun.testing.postgres import PostgresServer, postgres_server  # noqa: F401


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/redun.db"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()
