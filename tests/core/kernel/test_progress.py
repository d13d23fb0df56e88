"""The live progress line: drawn on a terminal, absent (and free) otherwise."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redun import Scheduler, task
from redun.builtins.progress import ERASE, LISTENER_NAME
from redun.config import Config
from redun.logging import setup_logging
from redun.plugins.manager import get_plugin_manager

EVENTS = (
    "redun_execution_started",
    "redun_job_submitted",
    "redun_job_done",
    "redun_job_failed",
    "redun_execution_finished",
)


@task(namespace="progress_test")
def leaf(x: int) -> int:
    return x


@task(namespace="progress_test")
def bad(x: int) -> int:
    raise ValueError(f"bad {x}")


@task(namespace="progress_test")
def fanout(n: int) -> list:
    return [leaf(i) for i in range(n)]


@task(namespace="progress_test")
def failing(n: int) -> int:
    return bad(n)


def make_scheduler() -> Scheduler:
    return Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))


def read_all(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0.05)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode()


def screen(drawn: str) -> list[str]:
    """The lines a terminal shows once the erase codes are applied."""
    return [line.rsplit(ERASE, 1)[-1] for line in drawn.replace("\r\n", "\n").split("\n")]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """A function that makes sys.stderr a pseudo-terminal; it returns the fd reading it.

    Called from the test body: pytest's own capture replaces sys.stderr when a
    test starts, which would undo a swap made during fixture setup.
    """
    opened: list[int] = []
    streams = []

    def attach() -> int:
        master, slave = os.openpty()
        stream = os.fdopen(slave, "w")
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.delenv("TERM", raising=False)
        opened.append(master)
        streams.append(stream)
        return master

    yield attach
    monkeypatch.undo()
    for stream in streams:
        stream.close()
    for fd in opened:
        os.close(fd)


def test_not_a_terminal_registers_no_listener() -> None:
    assert not sys.stderr.isatty()
    scheduler = make_scheduler()
    manager = get_plugin_manager()
    assert manager.get_plugin(LISTENER_NAME) is None
    assert not any(manager.has_listeners(name) for name in EVENTS)
    assert scheduler.run(fanout(2)) == [0, 1]


def test_terminal_draws_counts_and_erases_at_the_end(terminal: Callable[[], int]) -> None:
    fd = terminal()
    setup_logging("INFO")
    scheduler = make_scheduler()
    manager = get_plugin_manager()
    listener = manager.get_plugin(LISTENER_NAME)
    assert listener is not None and all(manager.has_listeners(name) for name in EVENTS)
    listener.interval = 0  # draw on every event, so every count shows

    assert scheduler.run(fanout(3)) == [0, 1, 2]
    drawn = read_all(fd)
    assert "[redun] 0s | RUNNING 0 | DONE 0 | CACHED 0 | FAILED 0" in drawn
    assert "| RUNNING 1 | DONE 0 |" in drawn
    assert "| RUNNING 0 | DONE 4 | CACHED 0 | FAILED 0" in drawn
    shown = screen(drawn)
    # Nothing of the progress line is left, and log lines start on a clean line.
    assert not any("| RUNNING" in line for line in shown)
    assert sum(line.startswith("[redun] Run    Job ") for line in shown) == 4

    assert scheduler.run(fanout(3)) == [0, 1, 2]
    assert "| DONE 0 | CACHED 4 | FAILED 0" in read_all(fd)

    with pytest.raises(ValueError):
        scheduler.run(failing(1))
    drawn = read_all(fd)
    assert "| FAILED 1" in drawn and "| FAILED 2" in drawn
    assert not any("| RUNNING" in line for line in screen(drawn))


def test_back_off_a_terminal_the_listener_goes(
    terminal: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal()
    make_scheduler()
    assert get_plugin_manager().get_plugin(LISTENER_NAME) is not None
    monkeypatch.setenv("TERM", "dumb")
    make_scheduler()
    manager = get_plugin_manager()
    assert manager.get_plugin(LISTENER_NAME) is None
    assert not manager.has_listeners("redun_job_done")


WORKFLOW = """
from redun import task

@task(namespace="progress_cli")
def main(n: int = 3) -> int:
    return n * 2
"""


def test_redun_run_in_a_terminal_and_in_a_pipe(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(WORKFLOW)
    redun = str(Path(sys.executable).parent / "redun")
    env = {**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1", "TERM": "xterm"}
    master, slave = os.openpty()
    try:
        done = subprocess.run(
            [redun, "run", "wf.py", "progress_cli.main"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
            timeout=60,
        )
        drawn = read_all(master)
    finally:
        os.close(slave)
        os.close(master)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "6"
    assert "[redun] 0s | RUNNING " in drawn
    assert not any("| RUNNING" in line for line in screen(drawn))

    piped = subprocess.run(
        [redun, "run", "wf.py", "progress_cli.main", "--n", "4"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.returncode == 0 and piped.stdout.strip().splitlines()[-1] == "8"
    assert "\x1b[2K" not in piped.stderr and "| RUNNING" not in piped.stderr
