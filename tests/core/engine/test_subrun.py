import os
import sqlite3

from redun.scheduler import subrun

from tests.core.engine import process_tasks

MODULES = ["tests.core.engine.process_tasks"]


def test_subrun_extends_the_execution_from_another_process(repo, tmp_path, redun_log):
    scheduler = repo()
    expr = subrun(process_tasks.spawn_children(2), executor="process", load_modules=MODULES)
    results = scheduler.run(expr)
    assert [x for _, x in results] == [0, 1]
    assert all(pid != os.getpid() for pid, _ in results)
    messages = [record.getMessage() for record in redun_log.records]
    assert any(m.startswith("BEGIN: Sub-scheduler report (executor='process')") for m in messages)
    db = sqlite3.connect(tmp_path / "redun.db")
    (executions,) = db.execute("select count(*) from execution").fetchone()
    assert executions == 1
    names = {name for (name,) in db.execute("select task_name from call_node")}
    assert {"redun.subrun_root_task", "process_test.spawn_children", "process_test.where"} <= names


def test_subrun_in_a_new_execution_and_its_cache(repo, tmp_path):
    expr = subrun(
        process_tasks.where(3), executor="process", load_modules=MODULES, new_execution=True
    )
    pid, x = repo().run(expr)
    assert x == 3
    db = sqlite3.connect(tmp_path / "redun.db")
    assert db.execute("select count(*) from execution").fetchone() == (2,)
    again = repo().run(
        subrun(process_tasks.where(3), executor="process", load_modules=MODULES, new_execution=True)
    )
    # The whole subrun came from the cache: no sub-scheduler, no new sub-execution.
    assert tuple(again) == (pid, 3)
    assert db.execute("select count(*) from execution").fetchone() == (3,)
