import json
import os
import sqlite3
import threading
import time

import pytest
from redun import Scheduler, apply_tags, get_context, task
from redun.scheduler import SchedulerError

from tests.core.engine import process_tasks
from tests.core.engine.helpers import memory_config

redun_namespace = "ctx_test"

ran: list = []


def setup_function() -> None:
    ran.clear()


@task
def read_db(table: str, host: str = get_context("db.host", "localhost")) -> str:
    ran.append(("read_db", table, host))
    return f"{host}/{table}"


@task
def read_other(x: int, size: int = get_context("other.size", 1)) -> int:
    ran.append(("read_other", x, size))
    return x * size


@task
def workflow() -> list:
    return [read_db("t1"), read_other(2)]


def test_context_comes_from_config_and_run_arguments(repo):
    scheduler = repo(scheduler={"context": json.dumps({"db": {"host": "config-host"}})})
    assert scheduler.run(read_db("t")) == "config-host/t"
    assert scheduler.run(read_db("t"), context={"db": {"host": "run-host"}}) == "run-host/t"
    assert repo().run(read_db("t")) == "localhost/t"


def test_context_file_and_bad_context_config(tmp_path):
    context_file = tmp_path / "context.json"
    context_file.write_text('{"db": {"host": "file-host"}}')
    scheduler = Scheduler(config=memory_config(scheduler={"context_file": str(context_file)}))
    assert scheduler.run(read_db("t")) == "file-host/t"
    with pytest.raises(SchedulerError, match="Invalid redun context JSON"):
        Scheduler(config=memory_config(scheduler={"context": "{not json"}))
    with pytest.raises(SchedulerError, match="both context and context_file"):
        Scheduler(
            config=memory_config(scheduler={"context": "{}", "context_file": str(context_file)})
        )


def test_changing_a_context_value_reruns_only_its_readers(repo):
    repo().run(workflow(), context={"db": {"host": "a"}, "other": {"size": 3}})
    ran.clear()
    result = repo().run(workflow(), context={"db": {"host": "b"}, "other": {"size": 3}})
    assert result == ["b/t1", 6]
    assert ran == [("read_db", "t1", "b")]


def test_options_may_be_lazy_values(scheduler):
    where = process_tasks.where
    expr = where.options(executor=get_context("run.executor", "default"))(1)
    pid, _ = scheduler.run(expr, context={"run": {"executor": "process"}})
    assert pid != os.getpid()
    pid, _ = scheduler.run(where.options(executor=get_context("none", "default"))(2))
    assert pid == os.getpid()


def test_update_context_overrides_for_one_call(scheduler):
    expr = read_db.update_context({"db": {"host": "override"}})("t")
    assert scheduler.run(expr, context={"db": {"host": "base"}}) == "override/t"
    assert scheduler.run(get_context("missing.path", "dflt")) == "dflt"


@task(config_args=["verbose"])
def configurable(x: int, verbose: bool = False) -> int:
    ran.append(("configurable", x, verbose))
    return x


def test_config_args_are_not_hashed(repo):
    repo().run(configurable(1, verbose=False))
    repo().run(configurable(1, verbose=True))
    assert ran == [("configurable", 1, False)]


active = {"count": 0, "max": 0}
lock = threading.Lock()


@task(limits=["db"])
def limited(x: int) -> int:
    with lock:
        active["count"] += 1
        active["max"] = max(active["max"], active["count"])
    time.sleep(0.05)
    with lock:
        active["count"] -= 1
    return x


@task(limits={"db": 2})
def heavy(x: int) -> int:
    return limited(x)


def test_limits_bound_concurrency(scheduler):
    active.update(count=0, max=0)
    assert scheduler.run([limited(i) for i in range(6)]) == list(range(6))
    assert active["max"] == 1


def test_configured_limits_allow_more(tmp_path):
    active.update(count=0, max=0)
    scheduler = Scheduler(config=memory_config(limits={"db": "3"}))
    assert scheduler.limits == {"db": 3}
    scheduler.run([limited(i) for i in range(9)])
    assert active["max"] == 3
    assert scheduler.run(heavy(1)) == 1
    with pytest.raises(ValueError, match=r"\[limits\] db = 'x' is not an integer"):
        Scheduler(config=memory_config(limits={"db": "x"}))


def test_exported_options_reach_descendants(scheduler):
    from redun.scheduler import JobInfo

    @task
    def child(info: JobInfo = JobInfo()) -> dict:
        return {key: info.options.get(key) for key in ("memory", "queue")}

    @task(export_options={"memory": 8})
    def exporter() -> dict:
        return child()

    @task
    def top() -> dict:
        return child.options(queue="q")()

    assert scheduler.run(exporter()) == {"memory": 8, "queue": None}
    # Options never change cache keys, so ask for a fresh evaluation.
    expr = top.export_options(memory=2)()
    assert scheduler.run(expr, cache=False) == {"memory": 2, "queue": "q"}


@task
def provenance_leaf(x: int) -> int:
    ran.append(("provenance_leaf", x))
    return x + 1


@task
def provenance_parent(x: int) -> int:
    return provenance_leaf(x)


def test_prov_false_records_nothing_below(repo, tmp_path):
    assert repo().run(provenance_parent.options(prov=False)(1)) == 2
    db = sqlite3.connect(tmp_path / "redun.db")
    assert db.execute("select count(*) from call_node").fetchone() == (0,)
    assert db.execute("select count(*) from job").fetchone() == (0,)
    ran.clear()
    repo().run(provenance_parent.options(prov=False)(1))
    assert ran == [("provenance_leaf", 1)]


@task
def tagged_value() -> int:
    return apply_tags(
        42, tags=[("quality", "gold")], job_tags=[("step", "one")], execution_tags=[("env", "test")]
    )


@task(tags=[("team", "core")])
def tagged_task() -> int:
    return 1


def test_tags_from_config_run_apply_tags_and_task_options(repo, tmp_path):
    scheduler = repo(tags={"project": "acme", "size": "3"})
    assert scheduler.run([tagged_value(), tagged_task()], tags=[("run_tag", "x")]) == [42, 1]
    db = sqlite3.connect(tmp_path / "redun.db")
    tags = {
        (entity_type, key, value)
        for entity_type, key, value in db.execute(
            "select entity_type, key, value from tag where is_current"
        )
    }
    assert ("Execution", "project", '"acme"') in tags
    assert ("Execution", "size", "3") in tags
    assert ("Execution", "run_tag", '"x"') in tags
    assert ("Execution", "env", '"test"') in tags
    assert ("Value", "quality", '"gold"') in tags
    assert ("Job", "step", '"one"') in tags
    assert ("Job", "team", '"core"') in tags
    assert ("Task", "team", '"core"') in tags


def test_limits_that_can_never_be_met_fail_instead_of_hanging(scheduler):
    with pytest.raises(SchedulerError, match=r"needs limits \{'db': 2\} but \[limits\] allows"):
        scheduler.run(heavy(1))


def test_a_promise_that_never_settles_fails_instead_of_hanging(scheduler):
    from redun.promise import Promise
    from redun.scheduler import scheduler_task

    @scheduler_task(namespace="ctx_test")
    def never(scheduler, parent_job, sexpr):
        return Promise()

    with pytest.raises(SchedulerError, match="cannot make progress"):
        scheduler.run(never())
