"""Builtin CLI commands; each target is imported only when its command runs."""

from __future__ import annotations

from redun.plugins import CommandSpec, hookimpl


@hookimpl
def redun_commands() -> list[CommandSpec]:
    return [
        CommandSpec("init", "redun.cli.init_cmd:init", "Create a redun repository (.redun/)."),
        CommandSpec("plugins", "redun.cli.plugins_cmd:plugins", "List installed plugins."),
        CommandSpec("run", "redun.cli.run_cmd:run", "Run a workflow task."),
        CommandSpec("db", "redun.cli.db_cmds:db", "Show and migrate the database version."),
        CommandSpec("export", "redun.cli.records_cmds:export", "Export records as JSON lines."),
        CommandSpec("import", "redun.cli.records_cmds:import_", "Import JSON-lines records."),
        CommandSpec("push", "redun.cli.records_cmds:push", "Copy records to another repo."),
        CommandSpec("pull", "redun.cli.records_cmds:pull", "Copy records from another repo."),
        CommandSpec("repo", "redun.cli.repo_cmds:repo", "Add, list and remove named repos."),
        CommandSpec("tag", "redun.cli.tag_cmds:tag", "List, add, update and remove tags."),
        CommandSpec("log", "redun.cli.log_cmd:log", "Show recorded executions, jobs and values."),
        CommandSpec("explain", "redun.cli.explain_cmd:explain", "Say why jobs ran (cache misses)."),
        CommandSpec("oneshot", "redun.cli.oneshot_cmd:oneshot", "Run one task (remote workers)."),
        CommandSpec("launch", "redun.cli.launch_cmd:launch", "Submit a command to an executor."),
        CommandSpec("fs", "redun.cli.fs_cmds:fs", "Copy, list and print files on any filesystem."),
    ]
