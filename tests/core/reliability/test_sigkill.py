"""SIGKILL at a random point of a busy run: what finished long enough before it is kept.

A finished job must be durable within about a second under any load (the
scheduler batches its writes, but never holds them longer than that).
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.core.reliability.helpers import Project, kill_session, read_log, wait_for_lines

# The recording lag the scheduler promises (about 1 s), plus room for a busy CI machine.
LAG_BOUND = 2.0
# More tasks than any run gets through before the kill: the scheduler stays saturated.
N = 20_000

WORKFLOW = """
import time

from redun import task


@task()
def work(i: int, log: str) -> int:
    with open(log, "a") as out:
        out.write(f"{i} {time.time()}\\n")
    return i


@task()
def main(n: int, log: str) -> int:
    return sum_all([work(i, log) for i in range(n)])


@task()
def sum_all(values: list) -> int:
    return sum(values)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def db_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/redun.db"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.mark.slow
def test_sigkill_keeps_what_finished_before_the_lag_bound(db_uri: str, tmp_path: Path) -> None:
    project = Project(tmp_path, WORKFLOW, db_uri, **{"executors.default": {"type": "local"}})
    log = tmp_path / "ran.log"
    process = project.start("main", "--n", str(N), "--log", str(log))
    try:
        wait_for_lines(log, 1, process)
        # Somewhere in the busy part of the run, after some work is older than the bound.
        time.sleep(LAG_BOUND + random.uniform(0.5, 2.5))
        killed_at = time.time()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        kill_session(process.pid)
    first = read_log(log)
    assert len(first) < N, "the run finished before the kill: raise N"
    durable = {i for i, finished in first if finished < killed_at - LAG_BOUND}
    assert durable, f"nothing finished {LAG_BOUND} s before the kill: {project.stderr[-2000:]}"

    # Re-run over every index the first run reached: the durable ones must be reused.
    n = max(i for i, _ in first) + 1
    log.rename(tmp_path / "first.log")
    rerun = project.run("main", "--n", str(n), "--log", str(log))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert rerun.stdout.strip().splitlines()[-1] == str(sum(range(n)))
    redone = {i for i, _ in read_log(log)}
    lost = sorted(durable & redone)
    assert not lost, (
        f"{len(lost)} of {len(durable)} jobs finished more than {LAG_BOUND} s before the "
        f"SIGKILL ran again (first: {lost[:5]})"
    )
