import re
import sqlite3
from collections import namedtuple
from dataclasses import dataclass

import pytest
from redun import Scheduler, task
from redun.expression import quote
from redun.scheduler import Execution, Job, JobInfo, SchedulerError

from tests.core.engine.helpers import log_lines, memory_config

redun_namespace = "basics"

calls: list = []


@task
def add(a: int, b: int) -> int:
    calls.append(("add", a, b))
    return a + b


@task
def pair(x: int) -> tuple[int, int]:
    return x, x * 10


@task
def fib(n: int) -> int:
    if n <= 1:
        return n
    return add(fib(n - 1), fib(n - 2))


@task
def count_down(n: int) -> int:
    if n == 0:
        return 0
    return add(count_down(n - 1), 1)


@task
def tail_call(n: int) -> str:
    if n == 0:
        return "bottom"
    return tail_call(n - 1)


Point = namedtuple("Point", ["x", "y"])


@dataclass
class Box:
    content: object


@task
def make_dict() -> dict:
    return {"a": 1, "b": [1, 2, 3]}


def setup_function() -> None:
    calls.clear()


def test_run_evaluates_a_task_call(scheduler):
    assert scheduler.run(add(1, 2)) == 3


def test_nested_values_of_expressions_are_resolved(scheduler):
    value = {
        "list": [add(1, 1), 5],
        "tuple": (add(2, 2),),
        "point": Point(add(0, 1), "y"),
        "box": Box(add(3, 3)),
        "set": {add(4, 4)},
    }
    assert scheduler.run(value) == {
        "list": [2, 5],
        "tuple": (4,),
        "point": Point(1, "y"),
        "box": Box(6),
        "set": {8},
    }
    assert scheduler.run(7) == 7


def test_lazy_operators_evaluate(scheduler):
    result = make_dict()
    assert scheduler.run(result["b"][1] + 40) == 42
    assert scheduler.run((add(1, 2) == 3) & (add(1, 1) < 1)) is False
    a, b = pair(4)
    assert scheduler.run([a, b]) == [4, 40]
    assert scheduler.run(add(1, 2).real) == 3
    assert scheduler.run(make_dict()["b"][0:2]) == [1, 2]


def test_tasks_returning_expressions_recurse(scheduler):
    assert scheduler.run(fib(12)) == 144
    # CSE: each distinct fib(n)/add(a, b) call ran once within the execution.
    assert len(calls) == len(set(calls))


@pytest.mark.slow
def test_chain_of_ten_thousand_nested_task_calls(scheduler):
    # Each job returns the next call: 10,000 levels of results resolving each other.
    assert scheduler.run(tail_call(10_000), cache=False) == "bottom"


def test_deep_recursion_through_arguments(scheduler):
    assert scheduler.run(count_down(1500)) == 1500


def test_each_expression_object_runs_once_and_equal_calls_collapse(scheduler):
    shared = add(100, 1)
    assert scheduler.run([shared, shared, add(100, 1), add(shared, 1)]) == [101, 101, 101, 102]
    assert calls.count(("add", 100, 1)) == 1


def test_log_lines_and_status_table(scheduler, redun_log):
    scheduler.run(add(1, 2), exec_argv=["redun", "run", "wf.py", "add"])
    lines = log_lines(redun_log)
    assert any(
        re.fullmatch(r"Start Execution [0-9a-f-]{36}:  redun run wf\.py add", x) for x in lines
    )
    assert any(
        re.fullmatch(r"Run    Job [0-9a-f]{8}:  basics\.add\(a=1, b=2\) on default", x)
        for x in lines
    )
    assert any(re.fullmatch(r"Execution duration: \d+\.\d\d seconds", x) for x in lines)
    header = next(i for i, x in enumerate(lines) if x.startswith("| JOB STATUS "))
    assert lines[header + 1].split() == [
        "|",
        "TASK",
        "PENDING",
        "RUNNING",
        "FAILED",
        "CACHED",
        "DONE",
        "TOTAL",
    ]
    assert lines[header + 3].split() == ["|", "ALL", "0", "0", "0", "0", "1", "1"]
    assert lines[header + 4].split() == ["|", "basics.add", "0", "0", "0", "0", "1", "1"]


def test_job_status_table_is_printed_periodically(redun_log):
    import time

    @task
    def slow():
        time.sleep(1.3)
        return 1

    scheduler = Scheduler(config=memory_config(), job_status_interval=1)
    scheduler.run(slow())
    tables = [x for x in log_lines(redun_log) if x.startswith("| JOB STATUS")]
    assert len(tables) >= 2


def test_execution_jobs_and_call_nodes_are_recorded(repo, tmp_path):
    scheduler = repo()
    assert scheduler.run(fib(3), exec_argv=["redun", "run", "fib"]) == 2
    db = sqlite3.connect(tmp_path / "redun.db")
    ((execution_id, args, root_job_id),) = db.execute("select id, args, job_id from execution")
    assert args == '["redun", "run", "fib"]'
    jobs = db.execute("select id, parent_id, call_hash, end_time from job").fetchall()
    assert all(call_hash and end_time for _, _, call_hash, end_time in jobs)
    root = [job for job in jobs if job[1] is None]
    assert [job[0] for job in root] == [root_job_id]
    names = sorted(name for (name,) in db.execute("select task_name from call_node"))
    # fib(1) runs twice but both calls are one call node (same call hash).
    assert names == ["basics.add"] * 2 + ["basics.fib"] * 4
    assert len(jobs) == 7
    # The root call node's children are the call nodes of its child jobs.
    (edges,) = db.execute(
        "select count(*) from call_edge where parent_id = (select call_hash from job where id = ?)",
        (root_job_id,),
    ).fetchone()
    assert edges == 3


def test_non_task_expressions_get_a_root_task(repo, tmp_path):
    scheduler = repo()
    assert scheduler.run([add(1, 2), add(3, 4)]) == [3, 7]
    db = sqlite3.connect(tmp_path / "redun.db")
    (root_name,) = db.execute(
        "select c.task_name from execution e join job j on j.id = e.job_id "
        "join call_node c on c.call_hash = j.call_hash"
    ).fetchone()
    assert root_name == "redun.root_task"


def test_job_info_is_filled_in_and_not_hashed(scheduler):
    @task
    def who(x: int, info: JobInfo = JobInfo()):
        return info.job_id, info.eval_hash, x

    job_id, eval_hash, x = scheduler.run(who(1))
    assert len(job_id) == 36 and len(eval_hash) == 40 and x == 1
    second = Scheduler(config=memory_config())
    assert second.run(who(1))[1] == eval_hash


def test_scheduler_cannot_run_two_executions_at_once(scheduler):
    @task
    def nested():
        return scheduler.run(add(1, 1))

    with pytest.raises(SchedulerError, match="already running"):
        scheduler.run(nested())


def test_jobs_and_executions_expose_their_state():
    execution = Execution(context={"a": 1})
    job = Job(add, add(1, 2), execution=execution)
    assert execution.job is job and job.status == "PENDING"
    assert job.get_context() == {"a": 1}
    assert repr(job).startswith("Job(id=")


def test_unknown_task_name_fails_clearly(scheduler):
    from redun.expression import TaskExpression

    with pytest.raises(SchedulerError, match="Task not found in registry: basics.nope"):
        scheduler.run([TaskExpression("basics.nope", (), {})])


def test_quoted_expressions_are_not_evaluated(scheduler):
    @task
    def unquote(value):
        return value.eval()

    assert scheduler.run(unquote(quote(add(2, 3)))) == 5


@task
def make_thread(x: int):
    from redun.scheduler import fork_thread

    return fork_thread(add(x, 100))


@task
def take_thread(thread) -> int:
    from redun.scheduler import join_thread

    return join_thread(thread)


def test_fork_and_join_threads(scheduler):
    from redun.scheduler import Thread

    thread = make_thread(1)
    assert scheduler.run(take_thread(thread)) == 101
    assert isinstance(scheduler.run(make_thread(2)), Thread)
    # A thread from an earlier execution is joined by evaluating its expression again.
    assert scheduler.run(take_thread(scheduler.run(make_thread(3)))) == 103
