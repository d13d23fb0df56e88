"""Schedulers on real state stores: in-memory SQLite, or a SQLite file shared by two runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redun import Scheduler
from redun.config import Config
from redun.plugins.manager import get_plugin_manager
from redun.testing.postgres import postgres_server  # noqa: F401

from tests.core.engine.helpers import memory_config


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler(config=memory_config())


@pytest.fixture
def register_plugin() -> Iterator[Callable[[object, str], None]]:
    """Register plugin objects for one test; they are unregistered after it."""
    names: list[str] = []

    def register(plugin: object, name: str) -> None:
        get_plugin_manager().register_plugin(plugin, name, f"{name}-dist", "1.0")
        names.append(name)

    yield register
    for name in names:
        get_plugin_manager().unregister_plugin(name)


@pytest.fixture
def repo(tmp_path: Path) -> Callable[..., Scheduler]:
    """Build Schedulers on one SQLite file, as separate redun processes would."""
    db_uri = f"sqlite:///{tmp_path / 'redun.db'}"

    def make(**sections: dict) -> Scheduler:
        return Scheduler(config=Config({"backend": {"db_uri": db_uri}, **sections}))

    return make


@pytest.fixture(params=["sqlite", "postgres"])
def any_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Scheduler]:
    """Schedulers on one repository (SQLite file or PostgreSQL), as separate processes."""
    if request.param == "sqlite":
        db_uri = f"sqlite:///{tmp_path / 'redun.db'}"
    else:
        db_uri = request.getfixturevalue("postgres_server").create_database()

    def make(**sections: dict) -> Scheduler:
        backend = {"db_uri": db_uri, "automigrate": "true"}
        return Scheduler(config=Config({"backend": backend, **sections}))

    return make


@pytest.fixture
def redun_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Messages of the "redun" logger at INFO."""
    caplog.set_level(logging.INFO, logger="redun")
    return caplog
