"""Helpers shared by the engine tests."""

from __future__ import annotations

import pytest
from redun.config import Config


def memory_config(**sections: dict) -> Config:
    return Config({"backend": {"db_uri": "sqlite:///:memory:"}, **sections})


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "redun"]
