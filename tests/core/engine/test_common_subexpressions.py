"""Common-subexpression elimination: identical calls run once and are recorded once."""

from __future__ import annotations

import threading
import time

import pytest
from redun import Scheduler, cond, task
from redun.backends.db import CallNode, Job
from redun.scheduler import DryRunResult

from tests.core.engine.helpers import log_lines

redun_namespace = "cse_test"

ran: list = []
ran_lock = threading.Lock()


def setup_function() -> None:
    ran.clear()


def note(*item: object) -> None:
    with ran_lock:
        ran.append(item)


def job_count(scheduler: Scheduler) -> int:
    return scheduler.backend.session.query(Job).count()


@task(limits=["slot"])
def limited(x: int) -> int:
    note("limited", x)
    time.sleep(0.05)
    return x


@task
def via(label: str, x: int) -> int:
    return limited(x)


def test_identical_calls_waiting_for_a_limit_collapse_into_one_job(any_repo):
    scheduler = any_repo(limits={"slot": "1"})
    # limited(1) holds the only slot, so both limited(2) wait for it, in two parents.
    result = scheduler.run([limited(1), via("a", 2), via("b", 2), limited(2), limited(2)])
    assert result == [1, 2, 2, 2, 2]
    assert sorted(ran) == [("limited", 1), ("limited", 2)]
    # root, limited(1), limited(2) at the root once, two via jobs, each with a limited(2)
    # job: one runs, the others take its result (recorded as cached, as redun does).
    assert job_count(scheduler) == 7


@task
def echo(x: int) -> int:
    note("echo", x)
    return x


def test_identical_operands_inside_a_scheduler_task_evaluate_once(any_repo):
    scheduler = any_repo()
    assert scheduler.run(cond(echo(1) + echo(1) == 2, echo(3), echo(4))) == 3
    assert ran == [("echo", 1), ("echo", 3)]
    # root, echo(1), echo(3)
    assert job_count(scheduler) == 3


@task
def make_record() -> dict:
    note("make_record")
    return {"a": 1, "b": 2}


@task
def combine(x: int, y: int) -> int:
    note("combine", x, y)
    return x + y


def test_the_same_call_used_twice_as_arguments_records_one_job(any_repo):
    scheduler = any_repo()
    assert scheduler.run(combine(make_record()["a"], make_record()["a"])) == 2
    assert ran == [("make_record",), ("combine", 1, 1)]
    # The root task and its two child jobs: make_record once, combine.
    assert job_count(scheduler) == 3
    # Both arguments still record where their value came from.
    session = scheduler.backend.session
    [combine_call] = session.query(CallNode).filter_by(task_name="cse_test.combine").all()
    [record_call] = session.query(CallNode).filter_by(task_name="cse_test.make_record").all()
    upstreams = [
        [node.call_hash for node in argument.upstream] for argument in combine_call.arguments
    ]
    assert upstreams == [[record_call.call_hash], [record_call.call_hash]]


@task(cache_scope="NONE")
def uncacheable(x: int) -> int:
    note("uncacheable", x)
    return x


@task
def uses_twice(x: int) -> list:
    return [uncacheable(x), uncacheable(x)]


def test_a_cache_scope_none_task_reuses_its_pending_result_within_the_execution(any_repo):
    scheduler = any_repo()
    assert scheduler.run([uncacheable(5), uncacheable(5)]) == [5, 5]
    assert ran == [("uncacheable", 5)]
    # Never from an earlier execution, and never through the cache.
    assert scheduler.run(uses_twice(5)) == [5, 5]
    assert ran == [("uncacheable", 5)] * 2


@task
def step(x: int) -> int:
    note("step", x)
    return x + 1


@task
def shared_pipeline(x: int) -> list:
    note("shared_pipeline", x)
    first = step(x)
    # One result used in two places.
    return [step(first), combine(first, first), first]


def test_a_cached_rerun_records_one_job_per_call(any_repo, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="redun")
    scheduler = any_repo()
    assert scheduler.run(shared_pipeline(1)) == [3, 4, 2]
    first_jobs = job_count(scheduler)
    # shared_pipeline, step(1), step(2), combine(2, 2)
    assert first_jobs == 4
    ran.clear()
    rerun = any_repo()
    assert rerun.run(shared_pipeline(1)) == [3, 4, 2]
    assert ran == []
    assert job_count(rerun) == 2 * first_jobs
    caplog.clear()
    # A dry run lists each call once too.
    assert any_repo().run(shared_pipeline(1), dryrun=True) == [3, 4, 2]
    cached = [line for line in log_lines(caplog) if line.startswith("Cached Job")]
    assert len(cached) == first_jobs


def test_a_dryrun_of_new_work_lists_each_call_once(any_repo, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="redun")
    scheduler = any_repo()
    scheduler.run(step(1))
    caplog.clear()
    with pytest.raises(DryRunResult):
        any_repo().run(shared_pipeline(1), dryrun=True)
    lines = log_lines(caplog)
    listed = [line for line in lines if line.startswith(("Cached Job", "Dryrun Job"))]
    # shared_pipeline would run; only its own job is known before it runs.
    assert len(listed) == 1
