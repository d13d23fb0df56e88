"""Core tests see only the builtin plugins, as in a redun-core-only install."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redun.plugins.manager import reset_plugin_manager


@pytest.fixture(autouse=True)
def builtin_plugins_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    reset_plugin_manager()
    yield
    reset_plugin_manager()
