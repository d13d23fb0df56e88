"""Errors raised by the plugin kernel; each message is one line a user can act on."""

from __future__ import annotations

from redun.errors import RedunError


class PluginError(RedunError):
    """Base class of plugin kernel errors."""


class PluginConflictError(PluginError):
    """Two plugins claim the same executor type, URL scheme or command."""


class MissingPluginError(PluginError, LookupError):
    """No installed plugin provides the requested name."""


class MissingPluginImportError(MissingPluginError, ImportError):
    """An import of a redun name that a plugin provides (``redun.executors.k8s``) and none does."""


class MissingPluginAttributeError(MissingPluginError, AttributeError):
    """``redun.DockerExecutor`` read without the plugin providing it: `hasattr` says False."""


class PluginLoadError(PluginError):
    """A plugin's module failed to import."""

    def __init__(self, name: str, distribution: str, error: BaseException) -> None:
        self.name = name
        self.distribution = distribution
        self.error = error
        super().__init__(
            f"plugin '{name}' from {distribution} failed to load "
            f"({type(error).__name__}: {error}); skipping it"
        )
