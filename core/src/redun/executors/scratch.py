"""The scratch layout remote jobs share with their worker, and its small I/O.

Under an executor's scratch prefix (a local directory or any filesystem URL)::

    jobs/<eval_hash>/{input,output,error,status,.redun_job.sh}
    array_jobs/<uuid>/{input,output,error,eval_hashes}
    code/<content_hash>.tar.gz
    execution/<execution_id>/input

The names are redun's, so a worker image running redun can serve our
scheduler and the other way round. Local paths are read and written directly;
URLs go through ``redun.file`` so every registered filesystem works.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from redun.errors import RedunError
from redun.utils import pickle_dumps, pickle_loads

if TYPE_CHECKING:
    from redun.scheduler import Job

SCRATCH_INPUT = "input"
SCRATCH_OUTPUT = "output"
SCRATCH_ERROR = "error"
SCRATCH_STATUS = "status"
SCRATCH_HASHES = "eval_hashes"
SCRATCH_SCRIPT = ".redun_job.sh"

STATUS_OK = "ok"
STATUS_FAIL = "fail"


class ScratchError(RedunError):
    """A scratch file exists but cannot be understood."""


class ExceptionNotFoundError(ScratchError):
    """A job failed without leaving its error in scratch (killed, image broken)."""


def is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _local(path: str) -> str:
    return path.removeprefix("file://")


def join(prefix: str, *parts: str) -> str:
    """Join scratch path parts with ``/`` (URLs and POSIX paths alike)."""
    return "/".join([prefix.rstrip("/"), *parts])


def read_bytes(path: str) -> bytes:
    if is_url(path):
        from redun.file import File

        return File(path).read("rb")  # type: ignore[return-value]
    with open(_local(path), "rb") as infile:
        return infile.read()


def write_bytes(path: str, data: bytes) -> None:
    """Write atomically on local disk, so a poller never sees half a pickle."""
    if is_url(path):
        from redun.file import File

        File(path).write(data, "wb")
        return
    path = _local(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp_path = f"{path}.tmp{os.getpid()}"
    with open(tmp_path, "wb") as out:
        out.write(data)
    os.replace(tmp_path, path)


def exists(path: str) -> bool:
    if is_url(path):
        from redun.file import File

        return File(path).exists()
    return os.path.exists(_local(path))


def remove(path: str) -> None:
    """Remove a file if it exists."""
    if is_url(path):
        from redun.file import File

        file = File(path)
        if file.exists():
            file.remove()
        return
    try:
        os.remove(_local(path))
    except FileNotFoundError:
        pass


def local_dir(path: str) -> str:
    """The local directory behind a scratch prefix (for mounting into containers)."""
    if is_url(path):
        raise ScratchError(f"Scratch {path!r} is not a local directory")
    return os.path.abspath(_local(path))


# -- layout ------------------------------------------------------------------------


def get_job_scratch_dir(scratch_prefix: str, job: Job) -> str:
    if not job.eval_hash:
        raise ScratchError(f"{job!r} has no eval_hash yet; it cannot have a scratch directory")
    return join(scratch_prefix, "jobs", job.eval_hash)


def get_job_scratch_file(scratch_prefix: str, job: Job, filename: str) -> str:
    return join(get_job_scratch_dir(scratch_prefix, job), filename)


def get_array_scratch_file(scratch_prefix: str, array_uuid: str, filename: str) -> str:
    return join(scratch_prefix, "array_jobs", array_uuid, filename)


def get_code_scratch_file(scratch_prefix: str, tar_hash: str, use_zip: bool = False) -> str:
    return join(scratch_prefix, "code", tar_hash + (".zip" if use_zip else ".tar.gz"))


def get_execution_scratch_file(scratch_prefix: str, execution_id: str, filename: str) -> str:
    return join(scratch_prefix, "execution", execution_id, filename)


# -- job files ---------------------------------------------------------------------


def write_job_input(path: str, args: tuple | list, kwargs: dict) -> None:
    write_bytes(path, pickle_dumps([list(args), kwargs]))


def read_job_input(path: str) -> tuple[tuple, dict]:
    try:
        args, kwargs = pickle_loads(read_bytes(path))
    except (FileNotFoundError, OSError) as error:
        raise ScratchError(f"Job input {path} cannot be read: {error}") from error
    return tuple(args), kwargs


def parse_job_result(scratch_prefix: str, job: Job) -> tuple[Any, bool]:
    """The job's result from scratch, and whether there was one.

    Script tasks leave their stdout; like redun, their result is
    ``[0, stdout_bytes]``.
    """
    output_path = get_job_scratch_file(scratch_prefix, job, SCRATCH_OUTPUT)
    if not exists(output_path):
        return None, False
    data = read_bytes(output_path)
    if job.task.script:
        return [0, data], True
    try:
        return pickle_loads(data), True
    except Exception as error:
        raise ScratchError(
            f"Output of job {job.id} ({output_path}) cannot be read: {error}"
        ) from error


def read_job_status(scratch_prefix: str, job: Job) -> str | None:
    path = get_job_scratch_file(scratch_prefix, job, SCRATCH_STATUS)
    if not exists(path):
        return None
    return read_bytes(path).decode("utf8", "replace").strip()


def parse_job_error(scratch_prefix: str, job: Job) -> tuple[BaseException, Any]:
    """The job's ``(error, Traceback)`` from scratch; never raises."""
    from redun.tracebacks import Traceback

    error_path = get_job_scratch_file(scratch_prefix, job, SCRATCH_ERROR)
    if not exists(error_path):
        what = "stderr" if job.task.script else "Exception and traceback"
        error: BaseException = ExceptionNotFoundError(
            f"{what} of job {job.id} not found in {error_path}; see the job's logs"
        )
        return error, Traceback.from_error(error)
    data = read_bytes(error_path)
    if job.task.script:
        from redun.scripting import ScriptError

        error = ScriptError(data)
        return error, Traceback.from_error(error)
    try:
        error, traceback = pickle_loads(data)
    except Exception as parse_error:
        error = ScratchError(f"Error of job {job.id} ({error_path}) cannot be read: {parse_error}")
        return error, Traceback.from_error(error)
    return error, traceback
