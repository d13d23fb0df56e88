"""redun: lazy, cached, provenance-recording workflows in Python."""

from redun._version import __version__

version = __version__

__all__ = ["__version__", "version"]
