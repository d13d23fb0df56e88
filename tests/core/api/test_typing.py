"""Type checkers see a task's parameters and return type (py.typed, ParamSpec on @task).

mypy runs on a small workflow the way a user's CI runs it: against the
installed package, so the test fails if py.typed is not shipped or if @task
loses the decorated function's signature.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is in the dev dependency group (make install)")

WORKFLOW = """\
from typing import Any

from redun import Scheduler, Task, task
from redun.task import PartialTask


@task
def add(x: int, y: int) -> int:
    return x + y


@task(cache=False, namespace="typing_demo")
def greet(name: str, greeting: str = "hello") -> str:
    return f"{greeting} {name}"


@task()
def total(values: list[int]) -> int:
    return sum(values)


@task
def main() -> str:
    doubled = add(add(1, 2), 3)        # a task's result passes as its return type
    summed = total([doubled, add(4, 5), 6])
    return greet(str(summed), greeting="hi")


def use(scheduler: Scheduler) -> None:
    reveal_type(add)
    reveal_type(add(1, 2))
    add.options(cache=False)(1, 2)
    add.partial(1)(2)
    partial: PartialTask[..., int] = add.partial(1)
    as_value: Task[[int, int], int] = add
    result: Any = scheduler.run(main())
    add("one", 2)  # ERROR arg-type
    greet(name=3)  # ERROR arg-type
    add(1)  # ERROR call-arg
    wrong: str = add(1, 2)  # ERROR assignment
    total([1, "2"])  # ERROR list-item
    _ = (partial, as_value, result, wrong)
"""


def run_mypy(tmp_path: Path) -> list[str]:
    (tmp_path / "workflow.py").write_text(WORKFLOW)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--python-executable",
            sys.executable,
            "--show-error-codes",
            "workflow.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def test_py_typed_is_shipped_with_the_package() -> None:
    assert files("redun").joinpath("py.typed").is_file()


def test_mypy_checks_task_calls_against_the_function_signature(tmp_path: Path) -> None:
    lines = run_mypy(tmp_path)
    output = "\n".join(lines)
    assert "import-untyped" not in output, output  # py.typed is found
    source = WORKFLOW.splitlines()
    expected = {
        (number, line.rsplit("ERROR ", 1)[1])
        for number, line in enumerate(source, start=1)
        if "# ERROR" in line
    }
    found = set()
    for line in lines:
        match = re.match(r"workflow\.py:(\d+): error: .*\[([a-z-]+)\]$", line)
        if match:
            found.add((int(match.group(1)), match.group(2)))
    assert found == expected, output
    # mypy versions differ in whether builtins are spelled with their module.
    int_ = r"(builtins\.)?int"
    task_type = rf"redun\.task\.Task\[\[x: {int_}, y: {int_}\], {int_}\]"
    assert re.search(rf'workflow\.py:30: note: Revealed type is "{task_type}"', output), output
    assert re.search(rf'workflow\.py:31: note: Revealed type is "{int_}"', output), output
