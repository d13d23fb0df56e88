"""User-facing CLI errors: one line, exit code 1."""

from __future__ import annotations

import click


class CliError(click.ClickException):
    """A user error the CLI reports as ``Error: <message>`` without a traceback."""
