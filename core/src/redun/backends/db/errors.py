"""Errors of the call-graph database, each with a message a user can act on."""

from __future__ import annotations

from redun.errors import RedunError


class RedunDatabaseError(RedunError):
    """The database cannot be used as configured (bad URI, value too large, ...)."""


class RedunVersionError(RedunDatabaseError):
    """The database schema version is not the one this program works with."""
