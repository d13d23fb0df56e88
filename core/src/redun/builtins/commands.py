"""Builtin CLI commands; each target is imported only when its command runs."""

from __future__ import annotations

from redun.plugins import CommandSpec, hookimpl


@hookimpl
def redun_commands() -> list[CommandSpec]:
    return [
        CommandSpec("init", "redun.cli.init_cmd:init", "Create a redun repository (.redun/)."),
        CommandSpec("plugins", "redun.cli.plugins_cmd:plugins", "List installed plugins."),
        CommandSpec("oneshot", "redun.cli.oneshot_cmd:oneshot", "Run one task (remote workers)."),
        CommandSpec("fs", "redun.cli.fs_cmds:fs", "Copy, list and print files on any filesystem."),
    ]
