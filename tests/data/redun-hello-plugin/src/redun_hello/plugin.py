"""Registers the `hello` command, the `inline` executor type and `redun run --hello-greeting`."""

from redun.plugins import CommandOptionSpec, CommandSpec, ExecutorSpec, hookimpl


@hookimpl
def redun_commands():
    return [CommandSpec("hello", "redun_hello.cli:hello", "Greet from a third-party plugin.")]


@hookimpl
def redun_executors():
    return [
        ExecutorSpec(
            "inline",
            "redun_hello.executor:InlineExecutor",
            "Runs each task on the scheduler thread.",
            config_keys=("greeting",),
        )
    ]


@hookimpl
def redun_command_options():
    return [CommandOptionSpec("run", "redun_hello.cli:greeting_option")]
