"""A finished job is recorded while a fan-out's other jobs still wait to start (issue 19, 7).

A fan-out queues all its starts at once. A finished job's resolution (which
records its end) used to queue behind them, and executor events were taken
fewer at a time than new jobs started, so finished jobs piled up unrecorded:
at 100,000 siblings, seconds after they ended (the recording-lag bound).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from redun import Scheduler, task
from redun.plugins import hookimpl
from redun.scheduler import fork_thread, join_thread
from redun.scheduler.scheduler import CACHE_CHECK_BATCH

redun_namespace = "test_finished_before_started"

N = 20000


BODIES = {"ended": 0}


@task()
def leaf(i: int) -> int:
    BODIES["ended"] += 1
    return i


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def fan(n: int) -> int:
    return total([leaf(i) for i in range(n)])


@task()
def forks() -> Any:
    return fork_thread(leaf(7))


@task()
def joins(thread: Any) -> int:
    return join_thread(thread)


class Order:
    """Leaf submissions and ends in order, and at each submission the leaves whose
    body has returned but whose end the scheduler has not yet taken."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.done = 0
        self.backlog: list[int] = []

    @hookimpl
    def redun_job_submitted(self, scheduler: Scheduler, job: Any) -> None:
        if job.task.name == "leaf":
            self.events.append("submitted")
            self.backlog.append(BODIES["ended"] - self.done)

    @hookimpl
    def redun_job_done(self, scheduler: Scheduler, job: Any, result: Any) -> None:
        if job.task.name == "leaf":
            self.events.append("done")
            self.done += 1


@pytest.fixture
def order(register_plugin: Callable[[object, str], None]) -> Order:
    plugin = Order()
    register_plugin(plugin, "job-order")
    return plugin


def test_finished_leaves_are_resolved_before_more_leaves_are_submitted(
    order: Order, scheduler: Scheduler
) -> None:
    assert scheduler.run(fan(N)) == sum(range(N))
    events = order.events
    assert events.count("submitted") == N and events.count("done") == N
    # Leaves are submitted a cache-check batch at a time; those that finished are
    # taken before the next batch, so the backlog never grows with the fan-out
    # (it passed 1,300 at this size, and 4,500 at 100,000, before).
    assert max(order.backlog) < 2 * CACHE_CHECK_BATCH, max(order.backlog)


def test_a_forked_thread_still_starts_as_a_child_of_the_job_that_forked_it(
    scheduler: Scheduler,
) -> None:
    assert scheduler.run(joins(forks())) == 7
