"""Ctrl-C (once, twice) and SIGTERM on a busy `redun run`, as a user's terminal sends them.

A first Ctrl-C starts nothing new, drops what has not started, waits a short
grace period for what runs, records what finished and exits 130. A second one
exits at once. Either way no process of the run is left behind.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from redun.backends.db import CallNode, Execution, RedunBackendDb
from sqlalchemy import select

from tests.core.reliability.helpers import (
    Project,
    kill_session,
    read_log,
    session_pids,
    wait_for_lines,
)

GRACE = 2.0
# A few seconds for Python to start and the run to end, on a busy CI machine.
EXIT_MARGIN = 4.0

WORKFLOW = """
import time

from redun import task


@task()
def work(i: int, log: str, seconds: float) -> int:
    time.sleep(seconds)
    with open(log, "a") as out:
        out.write(f"{i} {time.time()}\\n")
    return i


@task()
def hang(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@task()
def main(n: int, log: str, seconds: float = 0.4) -> list:
    return [hang(120.0)] + [work(i, log, seconds) for i in range(n)]
"""


def interrupt_project(tmp_path: Path, mode: str) -> Project:
    return Project(
        tmp_path,
        WORKFLOW,
        scheduler={"stop_grace": str(GRACE)},
        **{"executors.default": {"type": "local", "mode": mode, "max_workers": "4"}},
    )


def recorded_results(project: Project) -> set[int]:
    backend = RedunBackendDb(project.db_uri)
    backend.load()
    try:
        nodes = backend.session.execute(
            select(CallNode).where(CallNode.task_name == f"{project.ns}.work")
        ).scalars()
        return {node.value_parsed for node in nodes}
    finally:
        backend.close()


def execution_statuses(project: Project) -> list[str]:
    backend = RedunBackendDb(project.db_uri)
    backend.load()
    try:
        return [e.status for e in backend.session.execute(select(Execution)).scalars()]
    finally:
        backend.close()


def run_and_signal(project: Project, log: Path, signals: list[int]) -> tuple[int, float, float]:
    """Start the 200-job run, send `signals` 0.3 s apart; (exit code, last signal, exit time)."""
    process = project.start("main", "--n", "200", "--log", str(log))
    try:
        wait_for_lines(log, 4, process)
        for index, signum in enumerate(signals):
            if index:
                time.sleep(0.3)
            sent = time.time()
            # What a terminal does: the signal goes to the whole foreground group.
            os.killpg(process.pid, signum)
        code = process.wait(timeout=GRACE + 30)
        exited = time.time()
        time.sleep(0.2)
        left = session_pids(process.pid)
    finally:
        kill_session(process.pid)
    assert not left, f"processes of the run outlived it: {left}"
    return code, sent, exited


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["thread", "process"])
def test_first_ctrl_c_records_what_finished_and_exits_130(tmp_path: Path, mode: str) -> None:
    project = interrupt_project(tmp_path, mode)
    log = tmp_path / "ran.log"
    code, sent, exited = run_and_signal(project, log, [signal.SIGINT])
    assert code == 130, project.stderr[-2000:]
    assert exited - sent < GRACE + EXIT_MARGIN
    finished = {i for i, _ in read_log(log)}
    assert len(finished) < 40, "queued jobs kept running after Ctrl-C"
    assert finished <= recorded_results(project), "finished jobs were not recorded"
    assert "Ctrl+C again to stop at once" in project.stderr
    assert "Traceback" not in project.stderr
    assert execution_statuses(project) == ["FAILED"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["thread", "process"])
def test_second_ctrl_c_exits_at_once(tmp_path: Path, mode: str) -> None:
    project = interrupt_project(tmp_path, mode)
    log = tmp_path / "ran.log"
    code, sent, exited = run_and_signal(project, log, [signal.SIGINT, signal.SIGINT])
    assert code == 130, project.stderr[-2000:]
    assert exited - sent < EXIT_MARGIN
    before_second = {i for i, t in read_log(log) if t < sent - 0.2}
    assert before_second <= recorded_results(project)
    assert "again: stopping at once" in project.stderr


@pytest.mark.slow
def test_sigterm_is_a_first_ctrl_c(tmp_path: Path) -> None:
    project = interrupt_project(tmp_path, "process")
    log = tmp_path / "ran.log"
    process = project.start("main", "--n", "200", "--log", str(log))
    try:
        wait_for_lines(log, 4, process)
        sent = time.time()
        # What kill, systemd and Kubernetes do: SIGTERM to the scheduler alone.
        os.kill(process.pid, signal.SIGTERM)
        code = process.wait(timeout=GRACE + 30)
        exited = time.time()
        time.sleep(0.2)
        left = session_pids(process.pid)
    finally:
        kill_session(process.pid)
    assert code == 143, project.stderr[-2000:]
    assert exited - sent < GRACE + EXIT_MARGIN
    assert not left, f"processes of the run outlived it: {left}"
    assert {i for i, _ in read_log(log)} <= recorded_results(project)
    assert execution_statuses(project) == ["FAILED"]


@pytest.mark.slow
def test_process_workers_die_with_a_killed_scheduler(tmp_path: Path) -> None:
    project = interrupt_project(tmp_path, "process")
    log = tmp_path / "ran.log"
    process = project.start("main", "--n", "200", "--log", str(log))
    try:
        wait_for_lines(log, 4, process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 5
        while session_pids(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = session_pids(process.pid)
    finally:
        kill_session(process.pid)
    assert not left, f"worker processes outlived their SIGKILLed scheduler: {left}"
