"""Entry point of redun-slurm (group `redun`): the ``slurm`` executor and ``redun slurm``.

Nothing heavy is imported here: the executor module loads when a ``type =
slurm`` section is first used, the command module when ``redun slurm`` runs.
"""

from __future__ import annotations

from redun.plugins import CommandSpec, ExecutorSpec, hookimpl

CONFIG_KEYS = (
    "scratch",
    "partition",
    "account",
    "qos",
    "time",
    "cpus",
    "vcpus",
    "memory",
    "gpus",
    "sbatch_args",
    "env",
    "setup",
    "image",
    "container_runtime",
    "volumes",
    "retries",
    "timeout",
    "job_name_prefix",
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
            "slurm",
            "redun_slurm.executor:SlurmExecutor",
            "SLURM batch jobs (sbatch; job arrays; optionally in a container)",
            config_keys=CONFIG_KEYS,
        )
    ]


@hookimpl
def redun_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            "slurm",
            "redun_slurm.cli:slurm",
            "List, follow and cancel the SLURM jobs of redun executions.",
        )
    ]
