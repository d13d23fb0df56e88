"""Tests of redun-console: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("redun_console", reason="redun-console is not installed")

from redun.testing.postgres import PostgresServer, postgres_server  # noqa: F401

from tests.plugins.console.builders import Repo, build_repo


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A SQLite repo with real succeeded, cached, failed, File, wide and running executions."""
    path: Path = tmp_path_factory.mktemp("console-repo")
    return build_repo(path)


@pytest.fixture(scope="session")
def pg_repo(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Repo:  # noqa: F811
    """The same executions as `repo`, recorded in a PostgreSQL database."""
    path: Path = tmp_path_factory.mktemp("console-pg-repo")
    return build_repo(path, postgres_server.create_database("console"))
