"""`redun run` keeps going after a failure by default; `--fail-fast` is redun's behaviour.

A two-stage fan-out where some first steps fail: by default every independent
second step runs and is cached, and the run fails with the first error, saying
how many jobs failed. With --fail-fast nothing new starts after the first one.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.core.reliability.helpers import Project, read_log

N = 40
FAILING = {i for i in range(N) if i % 8 in (2, 3)}

WORKFLOW = f"""
import time

from redun import task


@task()
def first(i: int) -> int:
    time.sleep(0.02)
    if i in {sorted(FAILING)!r}:
        raise ValueError(f"first step {{i}} failed")
    return i


@task()
def second(x: int, log: str) -> int:
    time.sleep(0.02)
    with open(log, "a") as out:
        out.write(f"{{x}} {{time.time()}}\\n")
    return 2 * x


@task()
def main(n: int, log: str) -> list:
    return [second(first(i), log) for i in range(n)]
"""


def project_in(tmp_path: Path) -> Project:
    return Project(
        tmp_path, WORKFLOW, **{"executors.default": {"type": "local", "max_workers": "4"}}
    )


def test_keep_going_is_the_default_and_says_how_many_failed(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    log = tmp_path / "second.log"
    done = project.run("main", "--n", str(N), "--log", str(log))
    assert done.returncode == 1, done.stderr[-3000:]
    assert {i for i, _ in read_log(log)} == set(range(N)) - FAILING
    # The first to fail (2 or 3: they may run at once) is the one shown.
    assert re.search(r"ValueError: first step \d+ failed", done.stderr)
    assert f"*** {len(FAILING)} jobs failed; the traceback above is the first." in done.stderr

    # The rerun runs only the failed first steps: every second step is cached.
    log.unlink()
    again = project.run("main", "--n", str(N), "--log", str(log))
    assert again.returncode == 1, again.stderr[-3000:]
    assert read_log(log) == []


def test_fail_fast_starts_nothing_new_after_the_first_failure(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    log = tmp_path / "second.log"
    command = project.command("main", "--n", str(N), "--log", str(log))
    command.insert(command.index("run") + 1, "--fail-fast")
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-3000:]
    assert len(read_log(log)) < N - len(FAILING)
    assert "ran to completion" not in done.stderr
