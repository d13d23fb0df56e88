"""The plugin kernel: hookspecs, spec records and the plugin manager.

Importing this package is cheap; plugins are discovered only when
``get_plugin_manager()`` is first called.
"""

from __future__ import annotations

import pluggy

from redun.plugins.errors import (
    MissingPluginError,
    MissingPluginImportError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
)
from redun.plugins.types import (
    BackendSpec,
    CommandOptionSpec,
    CommandSpec,
    ConfigSectionSpec,
    ExecutorSpec,
    FileSystemSpec,
    PluginInfo,
    ValueTypeSpec,
)

hookimpl = pluggy.HookimplMarker("redun")


def get_plugin_manager():
    """The process-wide plugin manager (built and loaded on first call)."""
    from redun.plugins.manager import get_plugin_manager as _get

    return _get()


__all__ = [
    "BackendSpec",
    "CommandOptionSpec",
    "CommandSpec",
    "ConfigSectionSpec",
    "ExecutorSpec",
    "FileSystemSpec",
    "MissingPluginError",
    "MissingPluginImportError",
    "PluginConflictError",
    "PluginError",
    "PluginInfo",
    "PluginLoadError",
    "ValueTypeSpec",
    "get_plugin_manager",
    "hookimpl",
]
