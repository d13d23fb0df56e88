"""`redun run` of a task raising a BaseException that is not an Exception.

The job fails as for any error: the run ends with the task's traceback (as
redun prints it), never a raw Python traceback through our CLI, and it is
recorded as failed. A task's sys.exit(code) ends it with that code (1 for 0 or
text: a failed run never exits 0); its KeyboardInterrupt ends it as Ctrl-C does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.reliability.helpers import Project
from tests.core.reliability.test_interrupt import execution_statuses

WORKFLOW = """
import time

from redun import task


class Abort(BaseException):
    pass


RAISED = {
    "abort": lambda: Abort("custom stop"),
    "generator_exit": GeneratorExit,
    "exit": lambda: SystemExit(3),
    "exit_zero": lambda: SystemExit(0),
    "exit_text": lambda: SystemExit("giving up"),
    "interrupt": KeyboardInterrupt,
}


@task()
def boom(kind: str) -> int:
    raise RAISED[kind]()


@task()
def ok(i: int) -> int:
    time.sleep(0.2)
    return i


@task()
def main(kind: str) -> list:
    return [boom(kind)] + [ok(i) for i in range(3)]
"""


@pytest.mark.parametrize("mode", ["thread", "process"])
@pytest.mark.parametrize(
    "kind, code, shown",
    [
        ("abort", 1, "Abort: custom stop"),
        ("generator_exit", 1, "GeneratorExit"),
        ("exit", 3, "SystemExit: 3"),
        # A failed run never exits 0, and the exit code is a number.
        ("exit_zero", 1, "SystemExit: 0"),
        ("exit_text", 1, "SystemExit: giving up"),
        ("interrupt", 130, "KeyboardInterrupt"),
    ],
)
def test_redun_run_of_a_task_raising_a_base_exception(
    tmp_path: Path, mode: str, kind: str, code: int, shown: str
) -> None:
    project = Project(tmp_path, WORKFLOW, **{"executors.default": {"type": "local", "mode": mode}})
    done = project.run("main", "--kind", kind, timeout=120)
    assert done.returncode == code, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    # The task's traceback, as the scheduler logs it; nothing of Python's own.
    assert any(line.startswith("[redun]") and shown in line for line in lines), done.stderr
    raw = [line for line in lines if not line.startswith("[redun]") and line.strip()]
    assert raw == [], raw
    assert execution_statuses(project) == ["FAILED"]
