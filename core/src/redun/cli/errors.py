"""User-facing CLI errors: one line, exit code 1."""

from __future__ import annotations

import click


class RedunClientError(click.ClickException):
    """redun's name for a user error of a command (what `RedunClient.execute` raises)."""


class CliError(RedunClientError):
    """A user error the CLI reports as ``Error: <message>`` without a traceback."""
