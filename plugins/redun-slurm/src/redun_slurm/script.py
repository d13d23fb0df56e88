"""The batch script sbatch receives: one redun job (or one index of an array).

The script runs the job's command (``redun oneshot ...`` or a script task's
bash) in a private directory on the node, directly or inside a container,
and leaves its exit status next to the job's SLURM output file. That file is
how the executor learns a job's outcome after SLURM has forgotten the job.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The SLURM id of the running job: "123", or "123_4" for index 4 of array 123.
JOB_ID_SHELL = "${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}"
# SLURM's variables a job inside a container still needs.
SLURM_ENV_PASSED = (
    "SLURM_JOB_ID",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_CPUS_ON_NODE",
)
# `container_runtime` values and the command family each belongs to.
DOCKER_LIKE = ("podman", "docker")
APPTAINER_LIKE = ("apptainer", "singularity")
CONTAINER_RUNTIMES = DOCKER_LIKE + APPTAINER_LIKE


@dataclass(frozen=True)
class Container:
    """How to wrap the command in a container on the node."""

    runtime: str
    image: str
    # [host, container] directories to mount; the scratch directory is always one.
    volumes: Sequence[tuple[str, str]] = ()
    cpus: float = 0
    memory_mb: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)


def container_command(container: Container, command: Sequence[str], env: Mapping[str, str]) -> str:
    """Shell text that runs `command` in the image; ``$redun_container`` names it."""
    if container.runtime in APPTAINER_LIKE:
        # apptainer runs the container as a child process: SLURM's signals reach it.
        args = [container.runtime, "exec"]
        for host, inside in container.volumes:
            args += ["--bind", f"{host}:{inside}"]
        for key, value in sorted(env.items()):
            args += ["--env", f"{key}={value}"]
        return shlex.join([*args, container.image, *command])
    args = [container.runtime, "run", "--rm", "--network", "host"]
    for key, value in sorted(container.labels.items()):
        args += ["--label", f"{key}={value}"]
    for host, inside in container.volumes:
        args += ["--volume", f"{host}:{inside}"]
    if container.cpus > 0:
        args += ["--cpus", f"{container.cpus:g}"]
    if container.memory_mb > 0:
        args += ["--memory", f"{container.memory_mb}m"]
    for key, value in sorted(env.items()):
        args += ["--env", f"{key}={value}"]
    for name in SLURM_ENV_PASSED:
        args += ["--env", name]
    return f'{shlex.join(args)} --name "$redun_container" {shlex.join([container.image, *command])}'


def batch_script(
    command: Sequence[str],
    env: Mapping[str, str],
    log_dir: str,
    setup: str = "",
    path_prefix: str = "",
    container: Container | None = None,
) -> str:
    """The whole script: environment, setup lines, the command, its exit status.

    The command runs in the background so a SIGTERM from SLURM (scancel, or the
    time limit) reaches the trap at once; the trap stops a container, which a
    container engine's daemon would otherwise keep running after the job ended,
    and removes the job's directory.
    """
    lines = [
        "#!/bin/bash",
        "# Written by redun-slurm: one redun job, its exit status left in the log directory.",
        f"redun_id={JOB_ID_SHELL}",
        "redun_id=${redun_id:-$SLURM_JOB_ID}",
    ]
    if path_prefix:
        lines.append(f'export PATH={shlex.quote(path_prefix)}:"$PATH"')
    if setup.strip():
        lines.append(setup.strip())
    stop = 'kill -TERM "$redun_pid" 2>/dev/null'
    if container is None:
        lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]
        run = shlex.join(command)
    else:
        lines.append('redun_container="redun-slurm-$redun_id"')
        run = container_command(container, command, env)
        if container.runtime in DOCKER_LIKE:
            # The engine's daemon, not this script, is the container's parent.
            runtime = shlex.quote(container.runtime)
            stop = (
                f'{runtime} kill "$redun_container" >/dev/null 2>&1; '
                f'{runtime} rm --force "$redun_container" >/dev/null 2>&1'
            )
    exit_file = shlex.quote(log_dir) + '/"$redun_id".exit'
    lines += [
        'redun_workdir=$(mktemp -d "${TMPDIR:-/tmp}/redun-slurm-$redun_id.XXXXXX") || exit 1',
        'cd "$redun_workdir" || exit 1',
        f'redun_stop() {{ {stop}; cd / && rm -rf "$redun_workdir"; }}',
        "trap 'redun_stop; exit 143' TERM INT",
        f"{run} &",
        "redun_pid=$!",
        'wait "$redun_pid"',
        "redun_rc=$?",
        'cd / && rm -rf "$redun_workdir"',
        f'echo "$redun_rc" > {exit_file}.tmp && mv {exit_file}.tmp {exit_file}',
        'exit "$redun_rc"',
    ]
    return "\n".join(lines) + "\n"
