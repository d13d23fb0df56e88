"""Keep-going: after a failure, independent branches still run to completion and are cached."""

from __future__ import annotations

import threading
import time

import pytest
from redun import Scheduler, task

from tests.core.engine.helpers import log_lines

redun_namespace = "keep_going_test"

N = 40
ran: list = []
_lock = threading.Lock()


def setup_function() -> None:
    ran.clear()


def fails(i: int) -> bool:
    return i % 5 == 0


@task
def first(i: int) -> int:
    if fails(i):
        raise ValueError(f"first step {i} failed")
    time.sleep(0.01)
    return i


@task
def second(x: int) -> int:
    with _lock:
        ran.append(x)
    return 2 * x


@task
def main(n: int) -> list:
    return [second(first(i)) for i in range(n)]


def test_independent_second_steps_all_run_and_are_cached(repo, redun_log) -> None:
    scheduler: Scheduler = repo(**{"executors.default": {"type": "local", "max_workers": "4"}})
    with pytest.raises(ValueError, match="first step 0 failed"):
        scheduler.run(main(N))
    survivors = [i for i in range(N) if not fails(i)]
    assert sorted(ran) == survivors
    assert f"*** {N // 5} jobs failed; the traceback above is the first." in " ".join(
        log_lines(redun_log)
    )

    # The next run runs only what failed: every second step it reaches is cached.
    ran.clear()
    with pytest.raises(ValueError):
        repo().run(main(N))
    assert ran == []


def test_fail_fast_starts_nothing_new_after_the_first_failure(repo) -> None:
    scheduler: Scheduler = repo(
        scheduler={"keep_going": "false"},
        **{"executors.default": {"type": "local", "max_workers": "4"}},
    )
    assert scheduler.keep_going is False
    with pytest.raises(ValueError):
        scheduler.run(main(N))
    assert len(ran) < N - N // 5


def test_keep_going_must_be_a_boolean(repo) -> None:
    from redun.scheduler import SchedulerError

    with pytest.raises(SchedulerError, match=r"\[scheduler\] keep_going = 'sometimes'"):
        repo(scheduler={"keep_going": "sometimes"})
