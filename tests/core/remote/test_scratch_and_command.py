"""Scratch layout, reading job outcomes, and the command lines workers run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from redun.cache import CacheScope
from redun.executors import scratch
from redun.executors.command import (
    REDUN_REQUIRED_VERSION,
    get_oneshot_command,
    get_script_task_command,
)
from redun.scheduler import Job
from redun.scripting import ScriptError
from redun.task import task
from redun.utils import pickle_dumps


@task(name="cmd_task", namespace="cmdtest")
def cmd_task(x: int) -> int:
    return x


@task(name="cmd_script", namespace="cmdtest", script=True)
def cmd_script(x: int) -> str:
    return f"echo {x}"


def make_job(a_task, eval_hash: str = "ab" * 20, **options) -> Job:  # type: ignore[no-untyped-def]
    job = Job(a_task, None, options=options)
    job.eval_hash = eval_hash
    job.args = ((7,), {"y": 1})
    return job


def test_layout_matches_redun() -> None:
    job = make_job(cmd_task)
    assert (
        scratch.get_job_scratch_file("s3://b/p/", job, "output")
        == f"s3://b/p/jobs/{'ab' * 20}/output"
    )
    assert scratch.get_array_scratch_file("/s", "u1", "input") == "/s/array_jobs/u1/input"
    assert scratch.get_code_scratch_file("/s", "h") == "/s/code/h.tar.gz"
    assert scratch.get_code_scratch_file("/s", "h", use_zip=True) == "/s/code/h.zip"
    assert scratch.get_execution_scratch_file("/s", "e", "input") == "/s/execution/e/input"
    job.eval_hash = None
    with pytest.raises(scratch.ScratchError, match="no eval_hash"):
        scratch.get_job_scratch_dir("/s", job)


def test_oneshot_command_writes_input_and_names_files(tmp_path: Path) -> None:
    prefix = str(tmp_path)
    job = make_job(cmd_task)
    command = get_oneshot_command(prefix, job, code_file=f"{prefix}/code/x.tar.gz")
    base = f"{prefix}/jobs/{'ab' * 20}"
    assert command[:4] == ["redun", "--check-version", REDUN_REQUIRED_VERSION, "oneshot"]
    assert command[-1] == "cmdtest.cmd_task"
    assert command[command.index("--input") + 1] == f"{base}/input"
    assert command[command.index("--code") + 1] == f"{prefix}/code/x.tar.gz"
    assert "--no-cache" not in command
    assert scratch.read_job_input(f"{base}/input") == ((7,), {"y": 1})

    uncached = get_oneshot_command(prefix, make_job(cmd_task, cache_scope=CacheScope.CSE))
    assert "--no-cache" in uncached
    array = get_oneshot_command(prefix, job, array_uuid="u1", array_rank_env="RANK")
    assert array[array.index("--output") + 1] == f"{prefix}/array_jobs/u1/output"
    assert "--array-job" in array and array[array.index("--array-rank-env") + 1] == "RANK"


def test_parse_result_and_errors(tmp_path: Path) -> None:
    prefix = str(tmp_path)
    job = make_job(cmd_task)
    assert scratch.parse_job_result(prefix, job) == (None, False)
    error, _ = scratch.parse_job_error(prefix, job)
    assert isinstance(error, scratch.ExceptionNotFoundError)

    base = tmp_path / "jobs" / ("ab" * 20)
    base.mkdir(parents=True)
    (base / "output").write_bytes(pickle_dumps({"x": 1}))
    assert scratch.parse_job_result(prefix, job) == ({"x": 1}, True)
    (base / "output").write_bytes(b"not a pickle")
    with pytest.raises(scratch.ScratchError, match="cannot be read"):
        scratch.parse_job_result(prefix, job)
    (base / "error").write_bytes(b"garbage")
    error, traceback = scratch.parse_job_error(prefix, job)
    assert isinstance(error, scratch.ScratchError) and traceback is not None


def run_script(tmp_path: Path, body: str) -> tuple[int, Job]:
    job = make_job(cmd_script)
    command = get_script_task_command(str(tmp_path / "scratch"), job, body)
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return subprocess.run(command, cwd=workdir, capture_output=True).returncode, job


def test_script_command_leaves_output_and_status(tmp_path: Path) -> None:
    code, job = run_script(tmp_path, "#!/bin/sh\necho out; echo err >&2")
    prefix = str(tmp_path / "scratch")
    assert code == 0
    assert scratch.read_job_status(prefix, job) == "ok"
    assert scratch.parse_job_result(prefix, job) == ([0, b"out\n"], True)

    code, job = run_script(tmp_path, "#!/bin/sh\necho partial; echo broken >&2; exit 3")
    assert code == 1
    assert scratch.read_job_status(prefix, job) == "fail"
    error, _ = scratch.parse_job_error(prefix, job)
    assert isinstance(error, ScriptError) and str(error) == "Last line: broken"
