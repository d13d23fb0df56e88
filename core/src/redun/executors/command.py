"""Command lines a remote worker runs: ``redun oneshot`` for tasks, bash for scripts.

Both read their input from and write their outcome to the job's scratch
files, so the scheduler learns the result by reading scratch, whatever engine
ran the command.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING

from redun._version import __version__
from redun.executors import scratch

if TYPE_CHECKING:
    from redun.scheduler import Job

REDUN_PROG = "redun"
# Workers older than the scheduler's minor release may not read its scratch files.
REDUN_REQUIRED_VERSION = ">=" + ".".join(__version__.split(".")[:2])


def get_import_path_args() -> list[str]:
    """``--import-path`` options for the paths `redun run` added, relative to cwd."""
    from redun.utils import get_import_paths

    args = []
    for path in get_import_paths():
        relative = os.path.relpath(path) if os.path.isabs(path) else path
        args += ["--import-path", relative]
    return args


def get_oneshot_command(
    scratch_prefix: str,
    job: Job,
    code_file: str | None = None,
    array_uuid: str | None = None,
    array_rank_env: str | None = None,
) -> list[str]:
    """The ``redun oneshot`` argv for `job` (or for the array `array_uuid` it leads).

    Single jobs get their input pickled to scratch here; array inputs are
    written by the job arrayer, one file for all indexes.
    """
    from redun.cache import CacheScope

    task = job.task
    if array_uuid is None:
        args, kwargs = job.args or ((), {})
        input_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_INPUT)
        scratch.write_job_input(input_path, args, kwargs)
        output_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_OUTPUT)
        error_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_ERROR)
    else:
        input_path = scratch.get_array_scratch_file(scratch_prefix, array_uuid, "input")
        output_path = scratch.get_array_scratch_file(scratch_prefix, array_uuid, "output")
        error_path = scratch.get_array_scratch_file(scratch_prefix, array_uuid, "error")

    command = [REDUN_PROG, "--check-version", REDUN_REQUIRED_VERSION, "oneshot"]
    command.append(task.load_module)
    command += get_import_path_args()
    if code_file:
        command += ["--code", code_file]
    if array_uuid is not None:
        command.append("--array-job")
        if array_rank_env:
            command += ["--array-rank-env", array_rank_env]
    if job.cache_scope() != CacheScope.BACKEND:
        command.append("--no-cache")
    command += ["--input", input_path, "--output", output_path, "--error", error_path]
    command.append(task.fullname)
    return command


def _copy(src: str, dest: str) -> str:
    """A shell copy between scratch (any filesystem) and the worker's disk."""
    if scratch.is_url(src) or scratch.is_url(dest):
        return f"{REDUN_PROG} fs cp {shlex.quote(src)} {shlex.quote(dest)}"
    return f"cp {shlex.quote(src)} {shlex.quote(dest)}"


def get_script_task_command(
    scratch_prefix: str, job: Job, script_command: str, exit_command: str = "exit 1"
) -> list[str]:
    """A bash argv that runs a script task's command and leaves its outcome in scratch.

    The script is stored as the job's scratch input; its stdout becomes the
    output, its stderr the error, and ``status`` says ``ok`` or ``fail``.
    """
    input_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_INPUT)
    output_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_OUTPUT)
    error_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_ERROR)
    status_path = scratch.get_job_scratch_file(scratch_prefix, job, scratch.SCRATCH_STATUS)
    for stale in (output_path, error_path, status_path):
        scratch.remove(stale)
    scratch.write_bytes(input_path, script_command.encode("utf8"))

    def status(word: str) -> str:
        if scratch.is_url(status_path):
            return f"echo {word} | {REDUN_PROG} fs cp - {shlex.quote(status_path)}"
        return f"echo {word} > {shlex.quote(status_path)}"

    script = "\n".join(
        [
            "set -o pipefail",
            _copy(input_path, ".task_command"),
            "chmod +x .task_command",
            "if ./.task_command 2> .task_error | tee .task_output; then",
            "  cat .task_error >&2",
            "  " + _copy(".task_output", output_path),
            "  " + _copy(".task_error", error_path),
            "  " + status(scratch.STATUS_OK),
            "else",
            "  cat .task_error >&2",
            "  " + _copy(".task_error", error_path),
            "  " + status(scratch.STATUS_FAIL),
            "  " + exit_command,
            "fi",
        ]
    )
    return ["bash", "-c", script]
