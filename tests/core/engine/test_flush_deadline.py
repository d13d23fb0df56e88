"""The write deadline is on the commit's end (issue 19, target 7).

A busy loop writes MAX_FLUSH_DELAY after the first unwritten record at the
latest; if the write then takes W, that record is durable MAX_FLUSH_DELAY + W
after it was made. At 100,000 tasks W reaches half a second, so the scheduler
starts each write as much earlier as the slowest recent write took.
"""

from __future__ import annotations

import time

import pytest
from redun import Scheduler
from redun.scheduler.scheduler import (
    MAX_FLUSH_DELAY,
    MIN_FLUSH_DELAY,
    WRITE_TIME_DECAY,
)


@pytest.fixture
def scheduler(scheduler: Scheduler) -> Scheduler:
    # What _process_events starts each run with.
    scheduler._write_s = 0.0
    scheduler._flush_delay = MAX_FLUSH_DELAY
    return scheduler


def write_taking(seconds: float):
    def try_flush() -> bool:
        time.sleep(seconds)
        return True

    return try_flush


def test_a_slow_write_makes_the_next_one_start_that_much_sooner(scheduler: Scheduler) -> None:
    scheduler._flush(write_taking(0.2), time.monotonic())
    assert MAX_FLUSH_DELAY - 0.2 - 0.05 < scheduler._flush_delay <= MAX_FLUSH_DELAY - 0.2


def test_the_slowest_recent_write_is_forgotten_gradually(scheduler: Scheduler) -> None:
    scheduler._flush(write_taking(0.2), time.monotonic())
    slow = scheduler._write_s
    scheduler._flush(write_taking(0.0), time.monotonic())
    assert scheduler._write_s == pytest.approx(slow * WRITE_TIME_DECAY, abs=0.01)
    for _ in range(30):
        scheduler._flush(write_taking(0.0), time.monotonic())
    assert scheduler._flush_delay == pytest.approx(MAX_FLUSH_DELAY, abs=0.01)


def test_a_write_slower_than_the_bound_leaves_the_shortest_delay(scheduler: Scheduler) -> None:
    scheduler._flush(write_taking(MAX_FLUSH_DELAY + 0.1), time.monotonic())
    assert scheduler._flush_delay == MIN_FLUSH_DELAY
