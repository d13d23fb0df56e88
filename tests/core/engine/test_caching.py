import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from redun import File, task
from redun.scheduler import DryRunResult

from tests.core.engine import golden_workflow as gw
from tests.core.engine.helpers import log_lines

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "golden.json").read_text())

redun_namespace = "cache_test"

ran: list = []


def setup_function() -> None:
    ran.clear()


@task
def inc(x: int) -> int:
    ran.append(("inc", x))
    return x + 1


@task
def outer(x: int) -> int:
    ran.append(("outer", x))
    return inc(inc(x))


@task(check_valid="shallow")
def shallow_outer(x: int) -> int:
    ran.append(("shallow_outer", x))
    return inc(inc(x))


@task(cache=False)
def uncached(x: int) -> int:
    ran.append(("uncached", x))
    return x


@task(cache_scope="NONE")
def never_cached(x: int) -> int:
    ran.append(("never_cached", x))
    return x


def actions(caplog) -> list[str]:
    return [line.split()[0] for line in log_lines(caplog) if " Job " in line]


def redefine(name: str, body: str, **options):
    """Register a new version of a task, as if its module had been edited."""
    from redun import get_task_registry

    namespace: dict = {"registered": get_task_registry().get}
    exec(body, namespace)
    return task(namespace[name], name=name, namespace="cache_test", source=body, **options)


def test_second_scheduler_on_the_same_repo_hits_the_cache(repo, redun_log):
    assert repo().run(outer(1)) == 3
    assert ran == [("outer", 1), ("inc", 1), ("inc", 2)]
    ran.clear()
    redun_log.clear()
    assert repo().run(outer(1)) == 3
    assert ran == []
    assert actions(redun_log) == ["Cached"] * 3


def test_a_cached_rerun_records_jobs_but_writes_no_call_graph_again(repo, tmp_path):
    """Cache hits point their jobs at the stored call nodes instead of inserting them again."""
    from sqlalchemy import event

    assert repo().run(outer(1)) == 3
    db = sqlite3.connect(tmp_path / "redun.db")
    tables = ["call_node", "call_edge", "argument", "argument_result", "value"]
    before = {t: sorted(db.execute(f"select * from {t}")) for t in tables}
    scheduler = repo()
    scheduler.load()
    inserts: list[str] = []
    selects: list[str] = []

    def on_execute(conn, cursor, statement, *args) -> None:
        if statement.startswith("INSERT"):
            inserts.append(statement.split()[2])
        elif statement.startswith("SELECT"):
            selects.append(statement)

    event.listen(scheduler.backend.engine, "before_cursor_execute", on_execute)
    assert scheduler.run(outer(1)) == 3
    # Only the tasks' own value rows are offered again (idempotently), as at every job start.
    assert not set(inserts) & {"call_node", "call_edge", "argument", "argument_result"}, inserts
    assert {t: sorted(db.execute(f"select * from {t}")) for t in tables} == before
    # One lookup per cache hit; outer's result was an expression, so whether its
    # call node (hashed with its children) is stored takes one more.
    assert len(selects) == 4, selects
    jobs = db.execute(
        "select j.call_hash, c.call_hash from job j left join call_node c using (call_hash)"
    ).fetchall()
    assert len(jobs) == 6 and all(job == stored for job, stored in jobs)


def test_a_redun_044_database_is_hit_by_the_same_workflow(tmp_path, redun_log):
    from redun import Scheduler
    from redun.config import Config

    shutil.copy(DATA / "redun044.db", tmp_path / "redun.db")
    db_uri = f"sqlite:///{tmp_path / 'redun.db'}"
    scheduler = Scheduler(config=Config({"backend": {"db_uri": db_uri}}))
    assert scheduler.run(gw.main(3)) == GOLDEN["result"]
    assert actions(redun_log) == ["Cached"] * 8
    db = sqlite3.connect(tmp_path / "redun.db")
    call_nodes = db.execute("select task_name, args_hash, call_hash, value_hash from call_node")
    assert sorted(call_nodes) == sorted(map(tuple, GOLDEN["call_nodes"]))
    evaluations = db.execute("select eval_hash, task_hash, args_hash, value_hash from evaluation")
    assert sorted(evaluations) == sorted(map(tuple, GOLDEN["evals"]))


def test_changed_code_reruns_only_that_task(repo, redun_log):
    redefine("leaf", "def leaf(x):\n    return x + 1\n")
    step = redefine("step", "def step(x):\n    return registered('cache_test.leaf')(x)\n")
    assert repo().run(step(1)) == 2
    redun_log.clear()
    redefine("leaf", "def leaf(x):\n    return x + 100\n")
    assert repo().run(step(1)) == 101
    assert actions(redun_log) == ["Cached", "Run"]


def test_version_freezes_the_hash_and_hash_includes_extend_it(repo, redun_log):
    first = redefine("versioned", "def versioned(x):\n    return x\n", version="1")
    repo().run(first(1))
    redun_log.clear()
    edited = redefine("versioned", "def versioned(x):\n    return x * 1\n", version="1")
    repo().run(edited(1))
    assert actions(redun_log) == ["Cached"]
    redun_log.clear()
    included = redefine(
        "versioned", "def versioned(x):\n    return x\n", version="1", hash_includes=["v2"]
    )
    repo().run(included(1))
    assert actions(redun_log) == ["Run"]


def test_full_checking_revisits_children_shallow_checking_does_not(repo, redun_log):
    repo().run([outer(5), shallow_outer(7)])
    redun_log.clear()
    repo().run(outer(5))
    assert actions(redun_log) == ["Cached"] * 3
    redun_log.clear()
    repo().run(shallow_outer(7))
    assert actions(redun_log) == ["Cached"]
    assert any("check_valid=shallow" in line for line in log_lines(redun_log))


def test_cache_false_reuses_only_within_an_execution(repo):
    scheduler = repo()
    assert scheduler.run([uncached(1), uncached(1)]) == [1, 1]
    assert ran == [("uncached", 1)]
    scheduler.run(uncached(1))
    assert ran == [("uncached", 1)] * 2


@task
def calls_never_cached(label: str, x: int) -> int:
    return never_cached(x)


def test_cache_scope_none_runs_in_every_parent_and_every_execution(scheduler):
    """Only a repeat of the same call in one parent is shared (redun's per-parent CSE)."""
    scheduler.run([calls_never_cached("a", 1), calls_never_cached("b", 1)])
    assert ran == [("never_cached", 1)] * 2
    scheduler.run(never_cached(1))
    assert ran == [("never_cached", 1)] * 3


def test_run_without_cache_reruns_everything(repo):
    repo().run(outer(2))
    ran.clear()
    repo().run(outer(2), cache=False)
    assert ran == [("outer", 2), ("inc", 2), ("inc", 3)]


def test_call_time_options_do_not_invalidate_the_cache(repo, redun_log):
    repo().run(inc(10))
    redun_log.clear()
    repo().run(inc.options(memory=4, executor="default")(10))
    assert actions(redun_log) == ["Cached"]


@task
def write_file(path: str, text: str) -> File:
    ran.append(("write_file", text))
    file = File(path)
    file.write(text)
    return file


def test_changed_or_deleted_output_files_rerun_the_task(repo, redun_log, tmp_path):
    path = str(tmp_path / "out.txt")
    assert repo().run(write_file(path, "hello")).read() == "hello"
    repo().run(write_file(path, "hello"))
    assert ran == [("write_file", "hello")]
    Path(path).write_text("edited by someone else")
    redun_log.clear()
    assert repo().run(write_file(path, "hello")).read() == "hello"
    assert ran == [("write_file", "hello")] * 2
    assert any("Cached result is no longer valid" in line for line in log_lines(redun_log))
    Path(path).unlink()
    repo().run(write_file(path, "hello"))
    assert ran == [("write_file", "hello")] * 3


def test_dryrun_reports_pending_work_without_running(repo, redun_log):
    with pytest.raises(DryRunResult):
        repo().run(outer(3), dryrun=True)
    assert ran == []
    lines = log_lines(redun_log)
    assert any(line.startswith("Dryrun Job") for line in lines)
    assert "Dryrun: Additional jobs would run." in lines
    repo().run(outer(3))
    ran.clear()
    assert repo().run(outer(3), dryrun=True) == 5
    assert ran == []


def test_dryrun_explains_a_cache_miss(repo, redun_log):
    repo().run(inc(1))
    redun_log.clear()
    with pytest.raises(DryRunResult):
        repo().run(inc(2), dryrun=True)
    lines = log_lines(redun_log)
    misses = [i for i, line in enumerate(lines) if line.startswith("Miss ")]
    assert len(misses) == 1
    # redun's line first, then the precise reason.
    assert re.fullmatch(
        r"Miss   Job \w{8}:  Existing task 'cache_test.inc\(\)' is called with new arguments "
        r"\(task_hash=\w{8}, args_hash=\w{8} --> \w{8}\)\.",
        lines[misses[0]],
    )
    assert lines[misses[0] + 1].strip() == "New arguments: x changed (1 --> 2)."


@task
def fails(x: int) -> int:
    ran.append(("fails", x))
    raise ValueError(f"fails {x}")


def test_errors_are_reused_only_within_an_execution(repo):
    from redun import catch_all

    with pytest.raises(ValueError):
        repo().run(catch_all([fails(1), fails(1)]))
    assert ran == [("fails", 1)]
    with pytest.raises(ValueError):
        repo().run(fails(1))
    assert ran == [("fails", 1)] * 2
