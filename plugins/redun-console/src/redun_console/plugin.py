"""Entry point of redun-console (group ``redun``): the command and the console's own hooks."""

from __future__ import annotations

from typing import Any

from redun.plugins import CommandSpec, hookimpl


@hookimpl
def redun_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            "console",
            "redun_console.cli:console",
            "Browse executions, jobs, values and tasks in a terminal UI.",
        )
    ]


@hookimpl
def redun_add_hookspecs(pluginmanager: Any) -> None:
    from redun_console import hookspecs

    pluginmanager.add_hookspecs(hookspecs)
