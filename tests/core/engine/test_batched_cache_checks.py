"""A fan-out's cache checks reach the backend in batches, one query per batch."""

from __future__ import annotations

from collections.abc import Callable

from redun import Scheduler, task
from redun.backends.db import Job
from redun.scheduler.scheduler import CACHE_CHECK_BATCH

redun_namespace = "batched_cache_test"

ran: list[int] = []


@task()
def leaf(i: int) -> int:
    ran.append(i)
    return i * 2


@task()
def branch(i: int) -> int:
    # Every branch asks for the same leaf: identical calls under different parents.
    return leaf(0) + leaf(i)


@task()
def fan(n: int) -> list:
    return [leaf(i) for i in range(n)]


@task()
def shared(n: int) -> list:
    return [branch(i) for i in range(1, n)]


def counting(scheduler: Scheduler) -> list[int]:
    """The size of every batch the scheduler hands the (real) backend."""
    sizes: list[int] = []
    check_cache_many = scheduler.backend.check_cache_many

    def counted(queries: list) -> list:
        sizes.append(len(queries))
        return check_cache_many(queries)

    scheduler.backend.check_cache_many = counted  # type: ignore[method-assign]
    return sizes


def test_a_cached_fan_out_checks_its_siblings_in_batches(any_repo: Callable[[], Scheduler]):
    n = 2 * CACHE_CHECK_BATCH + 7
    ran.clear()
    assert any_repo().run(fan(n)) == [i * 2 for i in range(n)]
    assert sorted(ran) == list(range(n))

    ran.clear()
    scheduler = any_repo()
    sizes = counting(scheduler)
    assert scheduler.run(fan(n)) == [i * 2 for i in range(n)]
    assert ran == []
    # The root call, then the siblings: two full batches and the rest.
    leaf_batches = [size for size in sizes if size > 1]
    assert leaf_batches == [CACHE_CHECK_BATCH, CACHE_CHECK_BATCH, 7], sizes
    assert sum(sizes) == n + 1


def test_identical_calls_waiting_in_one_batch_run_once(any_repo: Callable[[], Scheduler]):
    ran.clear()
    scheduler = any_repo()
    assert scheduler.run(shared(6)) == [2 * i for i in range(1, 6)]
    # leaf(0) is asked for by five parents in the same batch: it runs once.
    assert sorted(ran) == [0, 1, 2, 3, 4, 5]
    session = scheduler.backend.session
    assert session.query(Job).count() == 1 + 5 + 5 * 2
