"""Job lines (Run, Cached) skip logging's per-record work but read as redun prints them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redun import Scheduler, task
from redun import logging as redun_logging
from redun.config import Config

redun_namespace = "test_job_lines"


@task()
def shout(i: int) -> int:
    sys.stderr.write(f"task output {i}\n")
    return i


@task()
def fan(n: int) -> list:
    return [shout(i) for i in range(n)]


class Stderr:
    """What the run wrote to stderr so far (pytest's capsys)."""

    def __init__(self, capsys: pytest.CaptureFixture) -> None:
        self._capsys = capsys
        self._text = ""

    def getvalue(self) -> str:
        self._text += self._capsys.readouterr().err
        return self._text

    def clear(self) -> None:
        self.getvalue()
        self._text = ""


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture) -> Iterator[Stderr]:
    """redun's own stderr handler on the logger, writing to the captured stderr."""
    logger = redun_logging.logger
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers.clear()
    redun_logging.setup_logging("INFO")
    yield Stderr(capsys)
    redun_logging.flush_job_lines()
    logger.handlers[:], level, logger.propagate = saved
    logger.setLevel(level)


@contextmanager
def ours_alone() -> Iterator[None]:
    """Without the capture handlers pytest adds to non-propagating loggers for the call."""
    logger = redun_logging.logger
    others = [h for h in logger.handlers if type(h) is not redun_logging._CurrentStderrHandler]
    for handler in others:
        logger.removeHandler(handler)
    try:
        yield
    finally:
        redun_logging.flush_job_lines()
        for handler in others:
            logger.addHandler(handler)


def run_fan(tmp_path, n: int) -> list:
    scheduler = Scheduler(config=Config({"backend": {"db_uri": f"sqlite:///{tmp_path}/r.db"}}))
    return scheduler.run(fan(n))


def test_lines_are_held_then_written_in_order_with_other_records(stderr: Stderr) -> None:
    logger = redun_logging.logger
    with ours_alone():
        redun_logging.job_line(logger, "Run    Job 1:  a()")
        redun_logging.job_line(logger, "Run    Job 2:  b()")
        assert stderr.getvalue() == "", "job lines are held until a flush"
        logger.info("a record of its own")
    assert stderr.getvalue().splitlines() == [
        "[redun] Run    Job 1:  a()",
        "[redun] Run    Job 2:  b()",
        "[redun] a record of its own",
    ]


def test_a_full_hold_is_written_at_once(stderr: Stderr) -> None:
    with ours_alone():
        for i in range(redun_logging.LINES_HELD):
            redun_logging.job_line(redun_logging.logger, f"line {i}")
        assert len(stderr.getvalue().splitlines()) == redun_logging.LINES_HELD


def test_a_run_line_comes_before_the_tasks_own_output(stderr: Stderr, tmp_path) -> None:
    with ours_alone():
        assert run_fan(tmp_path, 5) == list(range(5))
    lines = stderr.getvalue().splitlines()
    for i in range(5):
        run = next(n for n, line in enumerate(lines) if f"test_job_lines.shout(i={i})" in line)
        assert lines[run].startswith("[redun] Run    Job ")
        assert run < lines.index(f"task output {i}")


def test_cached_lines_all_arrive_by_the_end_of_the_run(stderr: Stderr, tmp_path) -> None:
    run_fan(tmp_path, 20)
    stderr.clear()
    with ours_alone():
        run_fan(tmp_path, 20)
        held = len(redun_logging._lines)
    cached = [line for line in stderr.getvalue().splitlines() if "Cached Job" in line]
    assert len(cached) == 21
    assert all(line.startswith("[redun] Cached Job ") for line in cached)
    assert "Execution duration" in stderr.getvalue().splitlines()[-1]
    assert held == 0


def test_another_handler_gets_every_line_as_a_record(
    stderr: Stderr, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    with caplog.at_level(logging.INFO, logger="redun"):
        run_fan(tmp_path, 3)
    runs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Run    Job")]
    assert len(runs) == 4
