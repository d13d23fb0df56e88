import pickle
import sqlite3
import threading
import time

import pytest
from redun import Scheduler, catch, catch_all, cond, task, throw
from redun.functools import seq
from redun.scheduler import ErrorValue, SchedulerError, Traceback

from tests.core.engine.helpers import log_lines, memory_config

redun_namespace = "error_test"

ran: list = []


def setup_function() -> None:
    ran.clear()


@task
def divide(a: float, b: float) -> float:
    ran.append(("divide", a, b))
    return a / b


@task
def recover(error: Exception) -> str:
    return f"recovered from {type(error).__name__}"


@task
def parent(b: float) -> float:
    return divide(1, b)


@task
def note(x):
    ran.append(("note", x))
    return x


def test_task_errors_raise_with_a_task_level_traceback(scheduler, redun_log):
    with pytest.raises(ZeroDivisionError) as info:
        scheduler.run(parent(0))
    traceback = info.value.redun_traceback
    assert traceback is None or isinstance(traceback, Traceback)
    lines = log_lines(redun_log)
    start = lines.index("*** Execution failed. Traceback (most recent task last):")
    frames = [line for line in lines[start:] if line.lstrip().startswith("Job ")]
    assert [frame.split(", in ")[-1] for frame in frames] == ["parent", "divide"]
    assert "    b = 0" in lines[start:]
    assert lines[-1] == "ZeroDivisionError: division by zero"
    assert scheduler.traceback.frames[-1].name == "divide"


def test_failed_jobs_are_recorded_with_an_error_value(repo, tmp_path):
    with pytest.raises(ZeroDivisionError):
        repo().run(parent(0))
    db = sqlite3.connect(tmp_path / "redun.db")
    rows = db.execute(
        "select c.task_name, v.type from job j join call_node c on c.call_hash = j.call_hash "
        "join value v on v.value_hash = c.value_hash order by c.task_name"
    ).fetchall()
    assert rows == [
        ("error_test.divide", "redun.ErrorValue"),
        ("error_test.parent", "redun.ErrorValue"),
    ]


def test_cond_evaluates_only_the_chosen_branch(scheduler):
    assert scheduler.run(cond(note(True), note("then"), divide(1, 0))) == "then"
    assert scheduler.run(cond(note(False), divide(1, 0), note("else"))) == "else"
    assert scheduler.run(cond(note(0), note("a"), note(1), note("b"), note("c"))) == "b"
    assert ("divide", 1, 0) not in ran


def test_catch_recovers_and_rethrows_unmatched_errors(scheduler):
    assert scheduler.run(catch(divide(1, 0), ZeroDivisionError, recover)) == (
        "recovered from ZeroDivisionError"
    )
    assert scheduler.run(catch(divide(4, 2), ZeroDivisionError, recover)) == 2
    assert (
        scheduler.run(
            catch(divide(1, 0), KeyError, recover, (ArithmeticError, ValueError), recover)
        )
        == "recovered from ZeroDivisionError"
    )
    with pytest.raises(ZeroDivisionError):
        scheduler.run(catch(divide(1, 0), KeyError, recover))


def test_caught_errors_are_replayed_from_the_cache(repo):
    repo().run(catch(divide(1, 0), ZeroDivisionError, recover))
    ran.clear()
    assert repo().run(catch(divide(1, 0), ZeroDivisionError, recover)) == (
        "recovered from ZeroDivisionError"
    )
    # The successful recovery was cached: the failing division is not retried.
    assert ran == []


def test_throw_raises_lazily(scheduler):
    with pytest.raises(KeyError):
        scheduler.run(throw(KeyError("k")))
    assert scheduler.run(catch(throw(ValueError("v")), ValueError, recover)) == (
        "recovered from ValueError"
    )


@task
def count_errors(values: list) -> int:
    return sum(isinstance(value, Exception) for value in values)


def test_catch_all_waits_for_every_expression(scheduler):
    result = scheduler.run(
        catch_all([divide(1, 0), divide(4, 2), divide(2, 0)], ZeroDivisionError, count_errors)
    )
    assert result == 2
    assert {("divide", 4, 2), ("divide", 1, 0), ("divide", 2, 0)} <= set(ran)
    assert scheduler.run(catch_all([divide(4, 2)], ZeroDivisionError, count_errors)) == [2.0]
    with pytest.raises(ZeroDivisionError):
        scheduler.run(catch_all([divide(1, 0)]))
    with pytest.raises(ZeroDivisionError):
        scheduler.run(catch_all([divide(1, 0)], KeyError, count_errors))


def test_seq_runs_in_order(scheduler):
    assert scheduler.run(seq([note(1), note(2), note(3)])) == [1, 2, 3]
    assert ran == [("note", 1), ("note", 2), ("note", 3)]


class Unpicklable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


@task
def raise_unpicklable() -> None:
    raise Unpicklable("cannot pickle me")


def test_unpicklable_errors_are_recorded_as_their_repr(repo, tmp_path):
    with pytest.raises(Unpicklable):
        repo().run(raise_unpicklable())
    db = sqlite3.connect(tmp_path / "redun.db")
    (value_hash,) = db.execute(
        "select c.value_hash from call_node c where c.task_name = 'error_test.raise_unpicklable'"
    ).fetchone()
    scheduler = repo()
    scheduler.load()
    value, found = scheduler.backend.get_value(value_hash)
    assert found and isinstance(value, ErrorValue)
    assert str(value.error) == "Unpicklable('cannot pickle me')"


@task
def slow_success(x: int) -> int:
    time.sleep(0.5)
    ran.append(("slow_success", x))
    return x


@task
def fast_failure() -> None:
    raise RuntimeError("early failure")


def test_running_branches_finish_and_are_cached_when_another_fails(repo):
    with pytest.raises(RuntimeError, match="early failure"):
        repo().run([slow_success(1), fast_failure()])
    assert ran == [("slow_success", 1)]
    ran.clear()
    assert repo().run(slow_success(1)) == 1
    assert ran == []


def test_unknown_executor_names_the_configured_ones(scheduler):
    with pytest.raises(
        SchedulerError, match='Unknown executor "gpu"; configured executors: default, process'
    ):
        scheduler.run(note.options(executor="gpu")(1))


def test_state_store_failures_fail_the_run_cleanly():
    scheduler = Scheduler(config=memory_config())

    def broken_flush():
        raise RuntimeError("disk full")

    scheduler.load()
    scheduler.backend.flush = broken_flush
    with pytest.raises(RuntimeError, match="disk full"):
        scheduler.run(note(1))


@task
def returns_lock() -> object:
    return threading.Lock()


@task
def takes_anything(value) -> int:
    return 1


def test_unpicklable_results_and_arguments_fail_their_job_with_one_line(scheduler):
    with pytest.raises(SchedulerError, match="returns_lock returned a value that cannot be"):
        scheduler.run(returns_lock())
    with pytest.raises(pickle.PicklingError, match="make the value picklable"):
        scheduler.run(takes_anything(threading.Lock()))
