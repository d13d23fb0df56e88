"""Entry point of redun-docker (group `redun`): the ``docker`` executor type.

The executor module is imported only when a ``type = docker`` section is used.
AWS credentials reach containers through redun-aws's ``redun_job_env`` hook
(``include_aws_env``), so nothing here imports AWS code.
"""

from __future__ import annotations

from redun.plugins import ExecutorSpec, hookimpl

CONFIG_KEYS = (
    "image",
    "scratch",
    "vcpus",
    "memory",
    "gpus",
    "shared_memory",
    "interactive",
    "volumes",
    "env",
    "network",
    "docker",
    "include_aws_env",
    "retries",
    "timeout",
    "job_monitor_interval",
    "job_stale_time",
    "min_array_size",
    "max_array_size",
    "submit_workers",
    "code_package",
    "code_includes",
    "code_excludes",
)


@hookimpl
def redun_executors() -> list[ExecutorSpec]:
    return [
        ExecutorSpec(
            "docker",
            "redun_docker.executor:DockerExecutor",
            "Containers on this machine (docker or podman CLI)",
            config_keys=CONFIG_KEYS,
        )
    ]
