"""``redun oneshot``: run one task inside a remote worker, through scratch files.

The worker has no scheduler and no database: it unpacks the code package,
imports the task's module, calls the task's function with the pickled
arguments and pickles the result (or ``(error, Traceback)``) back to scratch.
Returned expressions are pickled as they are; the submitting scheduler
evaluates them.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from redun.cli.errors import CliError


def get_array_index(rank_env: str | None) -> int:
    from redun.executors.job_array import ARRAY_INDEX_VARS, get_job_array_index

    names = (rank_env,) if rank_env else ARRAY_INDEX_VARS
    try:
        index = get_job_array_index(env_var=rank_env)
    except ValueError:
        name = next(name for name in names if name in os.environ)
        raise CliError(f"Array index ${name} = {os.environ[name]!r} is not an integer") from None
    if index is None:
        raise CliError(
            f"--array-job needs the worker's index in ${' or $'.join(names)}; "
            "set --array-rank-env to the variable your engine uses"
        )
    return index


def _pick(path: str, index: int) -> str:
    """The `index`-th per-job path from an array's JSON list file."""
    from redun.executors import scratch

    paths = json.loads(scratch.read_bytes(path))
    if not 0 <= index < len(paths):
        raise CliError(f"Array index {index} is out of range for {len(paths)} jobs in {path}")
    return paths[index]


def _import(load_module: str) -> None:
    import importlib

    try:
        importlib.import_module(load_module)
    except ModuleNotFoundError as error:
        raise CliError(
            f"Cannot import {load_module!r} ({error}); ship the code with --code "
            "or add its directory with --import-path"
        ) from None


def _load_task(load_module: str, task_name: str) -> Any:
    from redun.task import get_task_registry

    _import(load_module)
    task = get_task_registry().get(task_name)
    if task is None:
        raise CliError(f"Unknown task {task_name!r} in module {load_module!r}")
    return task


def _valid_output(output_path: str) -> bool:
    """Whether a previous attempt left a result that may be reused (its files unchanged)."""
    from redun.executors import scratch
    from redun.utils import pickle_loads
    from redun.value import get_type_registry

    if not scratch.exists(output_path):
        return False
    try:
        previous = pickle_loads(scratch.read_bytes(output_path))
    except Exception:
        return False
    return get_type_registry().is_valid_nested(previous)


def _run(task: Any, args: tuple, kwargs: dict) -> Any:
    result = task.func(*args, **kwargs)
    if task.script:
        from redun.scripting import exec_script, prepare_command

        result = exec_script(prepare_command(result))
    return result


def _write_error(error_path: str | None, error: BaseException) -> None:
    """Pickle ``(error, Traceback)``; an unpicklable error goes as its repr."""
    from redun.executors import scratch
    from redun.tracebacks import Traceback
    from redun.utils import pickle_dumps

    if not error_path:
        return
    traceback = Traceback.from_error(error)
    try:
        data = pickle_dumps((error, traceback))
    except Exception:
        fallback = Exception(repr(error))
        data = pickle_dumps((fallback, Traceback(fallback, traceback.frames)))
    scratch.write_bytes(error_path, data)


@click.command("oneshot", context_settings={"ignore_unknown_options": True})
@click.argument("load_module")
@click.argument("task_name", metavar="TASK")
@click.option("--code", "-c", "code", metavar="TAR", help="Code package to unpack into cwd.")
@click.option("--input", "-i", "input_path", metavar="FILE", help="Pickled [args, kwargs].")
@click.option("--output", "-o", "output_path", metavar="FILE", help="Where to pickle the result.")
@click.option("--error", "-e", "error_path", metavar="FILE", help="Where to pickle the error.")
@click.option(
    "--import-path", "-p", "import_paths", multiple=True, metavar="DIR", help="Add to sys.path."
)
@click.option("--no-cache", is_flag=True, help="Run even if a valid output already exists.")
@click.option("--array-job", is_flag=True, help="Input/output/error describe a job array.")
@click.option("--array-rank-env", metavar="VAR", help="Variable holding this worker's index.")
def oneshot(
    load_module: str,
    task_name: str,
    code: str | None,
    input_path: str | None,
    output_path: str | None,
    error_path: str | None,
    import_paths: tuple[str, ...],
    no_cache: bool,
    array_job: bool,
    array_rank_env: str | None,
) -> None:
    """Run TASK from module LOAD_MODULE once, without a scheduler (remote workers)."""
    from redun.executors import scratch
    from redun.executors.code_packaging import extract_tar
    from redun.utils import add_import_path, pickle_dumps, pickle_loads

    # Whole lines in order: engines that store logs per write (podman) may mangle
    # lines that arrive in pieces, as unbuffered or block-buffered output does.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True, write_through=False)
    index = get_array_index(array_rank_env) if array_job else None
    if index is not None:
        if not (input_path and output_path and error_path):
            raise CliError("--array-job needs --input, --output and --error")
        output_path = _pick(output_path, index)
        error_path = _pick(error_path, index)
    if error_path:
        scratch.remove(error_path)
    if code:
        extract_tar(code)
    for path in reversed(import_paths):
        add_import_path(path)
    if "" not in sys.path:
        sys.path.insert(0, "")

    if task_name == "help":
        from redun.task import get_task_registry

        _import(load_module)
        for task in sorted(get_task_registry(), key=lambda task: task.fullname):
            if not task.fullname.startswith("redun."):
                click.echo(task.fullname)
        return

    task = _load_task(load_module, task_name)
    args: tuple = ()
    kwargs: dict = {}
    if input_path:
        if index is not None:
            all_args, all_kwargs = pickle_loads(scratch.read_bytes(input_path))
            args, kwargs = tuple(all_args[index]), all_kwargs[index]
        else:
            args, kwargs = scratch.read_job_input(input_path)

    if output_path and not no_cache and _valid_output(output_path):
        click.echo(f"Output of {task_name} already exists and is valid: {output_path}")
        return

    try:
        result = _run(task, args, kwargs)
    except Exception as error:
        _write_error(error_path, error)
        raise
    if output_path:
        scratch.write_bytes(output_path, pickle_dumps(result))
    else:
        click.echo(repr(result))
