"""A pytest fixture for testing workflows: ``pytest -p redun.pytest``, then ask for `scheduler`."""

from __future__ import annotations

import pytest

from redun.config import Config
from redun.scheduler import Scheduler


@pytest.fixture
def scheduler() -> Scheduler:
    """A Scheduler on a fresh in-memory database (nothing is cached across tests)."""
    return Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))
