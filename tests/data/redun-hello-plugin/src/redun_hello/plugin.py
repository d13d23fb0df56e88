"""Registers the `hello` command and the `inline` executor type."""

from redun.plugins import CommandSpec, ExecutorSpec, hookimpl


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
