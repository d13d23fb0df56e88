"""`redun oneshot` as a worker runs it: a subprocess reading and writing scratch files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redun.executors import scratch
from redun.executors.code_packaging import CodePackageConfig, package_code
from redun.utils import pickle_dumps, pickle_loads

REDUN = str(Path(sys.executable).parent / "redun")

WORKFLOW = """
import os
from redun.task import task

redun_namespace = "wf"

@task
def add(a, b=0):
    with open(os.environ["CALLS_FILE"], "a") as calls:
        calls.write("add\\n")
    return a + b

@task
def boom(message):
    raise ValueError(message)

@task(script=True)
def shout(word):
    return f"echo {word} | tr a-z A-Z"
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "wf.py").write_text(WORKFLOW)
    monkeypatch.setenv("CALLS_FILE", str(tmp_path / "calls"))
    monkeypatch.delenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return tmp_path


def oneshot(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REDUN, "oneshot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def calls(workdir: Path) -> int:
    path = workdir / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


def job_files(workdir: Path, name: str, args: list, kwargs: dict) -> list[str]:
    base = workdir / "scratch" / name
    scratch.write_job_input(str(base / "input"), args, kwargs)
    return [
        "--input",
        str(base / "input"),
        "--output",
        str(base / "output"),
        "--error",
        str(base / "error"),
    ]


def test_runs_task_from_import_path_and_writes_output(workdir: Path) -> None:
    files = job_files(workdir, "j1", [2], {"b": 3})
    proc = oneshot(workdir, "wf", "wf.add", "--import-path", "code", *files)
    assert proc.returncode == 0, proc.stderr
    assert pickle_loads((workdir / "scratch/j1/output").read_bytes()) == 5


def test_valid_output_short_circuits_unless_no_cache(workdir: Path) -> None:
    files = job_files(workdir, "j1", [1], {})
    assert oneshot(workdir, "wf", "wf.add", "-p", "code", *files).returncode == 0
    assert oneshot(workdir, "wf", "wf.add", "-p", "code", *files).returncode == 0
    assert calls(workdir) == 1
    assert oneshot(workdir, "wf", "wf.add", "-p", "code", "--no-cache", *files).returncode == 0
    assert calls(workdir) == 2
    (workdir / "scratch/j1/output").write_bytes(b"truncated pickle")
    assert oneshot(workdir, "wf", "wf.add", "-p", "code", *files).returncode == 0
    assert calls(workdir) == 3


def test_error_is_pickled_with_traceback_and_exit_code(workdir: Path) -> None:
    files = job_files(workdir, "j2", ["bad input"], {})
    (workdir / "scratch/j2/error").write_bytes(b"stale")
    proc = oneshot(workdir, "wf", "wf.boom", "-p", "code", *files)
    assert proc.returncode != 0
    assert "ValueError: bad input" in proc.stderr
    error, traceback = pickle_loads((workdir / "scratch/j2/error").read_bytes())
    assert isinstance(error, ValueError) and str(error) == "bad input"
    assert traceback.frames[-1].name == "boom"
    assert not (workdir / "scratch/j2/output").exists()


def test_code_package_is_unpacked_into_cwd(workdir: Path) -> None:
    code_file = package_code(
        str(workdir / "scratch"), CodePackageConfig(), root=str(workdir / "code")
    )
    assert code_file is not None
    worker = workdir / "worker"
    worker.mkdir()
    files = job_files(workdir, "j3", [40, 2], {})
    proc = oneshot(worker, "wf", "wf.add", "--code", code_file, *files)
    assert proc.returncode == 0, proc.stderr
    assert (worker / "wf.py").exists()
    assert pickle_loads((workdir / "scratch/j3/output").read_bytes()) == 42


def test_array_job_picks_its_index(workdir: Path) -> None:
    base = workdir / "scratch/array_jobs/u1"
    base.mkdir(parents=True)
    (base / "input").write_bytes(pickle_dumps([[[1], [2], [3]], [{"b": 10}, {}, {"b": 1}]]))
    outputs = [str(workdir / f"scratch/jobs/h{i}/output") for i in range(3)]
    errors = [str(workdir / f"scratch/jobs/h{i}/error") for i in range(3)]
    (base / "output").write_text(json.dumps(outputs))
    (base / "error").write_text(json.dumps(errors))
    args = [
        "wf",
        "wf.add",
        "-p",
        "code",
        "--array-job",
        "--input",
        str(base / "input"),
        "--output",
        str(base / "output"),
        "--error",
        str(base / "error"),
    ]
    for index in (2, 0):
        proc = oneshot(workdir, *args, env={"JOB_COMPLETION_INDEX": str(index)})
        assert proc.returncode == 0, proc.stderr
    proc = oneshot(workdir, *args, "--array-rank-env", "MY_RANK", env={"MY_RANK": "1"})
    assert proc.returncode == 0, proc.stderr
    assert [pickle_loads(Path(path).read_bytes()) for path in outputs] == [11, 2, 4]

    proc = oneshot(workdir, *args, env={"BATCH_TASK_INDEX": "7"})
    assert proc.returncode == 1
    assert "Array index 7 is out of range for 3 jobs" in proc.stderr


def test_help_lists_tasks_and_unknown_task_is_one_line(workdir: Path) -> None:
    proc = oneshot(workdir, "wf", "help", "-p", "code")
    assert proc.stdout.split() == ["wf.add", "wf.boom", "wf.shout"]
    proc = oneshot(workdir, "wf", "wf.nope", "-p", "code")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error: Unknown task 'wf.nope' in module 'wf'"
    proc = oneshot(workdir, "missing_mod", "x.y")
    assert "Cannot import 'missing_mod'" in proc.stderr


def test_script_task_runs_its_script(workdir: Path) -> None:
    files = job_files(workdir, "j5", ["hello"], {})
    proc = oneshot(workdir, "wf", "wf.shout", "-p", "code", *files)
    assert proc.returncode == 0, proc.stderr
    assert pickle_loads((workdir / "scratch/j5/output").read_bytes()) == b"HELLO\n"
