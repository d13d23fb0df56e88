"""The root of errors a user can fix: the CLI prints them as one line, no traceback."""

from __future__ import annotations


class RedunError(Exception):
    """An error whose message says what was wrong and what to do."""
