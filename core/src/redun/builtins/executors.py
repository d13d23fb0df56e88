"""Builtin executor types: local threads/processes and aliases."""

from __future__ import annotations

from redun.plugins import ExecutorSpec, hookimpl


@hookimpl
def redun_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec(
            "local",
            "redun.executors.local:LocalExecutor",
            "Threads or processes on this machine",
            config_keys=("mode", "max_workers", "start_method", "scratch"),
        ),
        ExecutorSpec(
            "alias",
            "redun.executors.alias:AliasExecutor",
            "Another name for a configured executor",
            config_keys=("target",),
        ),
    ]
