"""subrun: every option, with results, errors and provenance as redun 0.44 records them.

The expected job trees were first taken from the same workflows run under
redun 0.44.1 (outside this repository), then written down here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from redun import Scheduler, get_task_registry, task
from redun.backends.db import Execution, Job
from redun.config import Config
from redun.functools import no_prov
from redun.hashing import hash_call_node
from redun.scheduler import DryRunResult, SchedulerError, subrun

from tests.core.api import subrun_tasks as wf
from tests.core.remote.process_engine import CLASS_PATH

ROOT = Path(__file__).resolve().parents[3]
MODULE = "tests.core.api.subrun_tasks"
SUB = "redun.subrun_root_task"


def make_config(db_uri: str, **sections: dict) -> Config:
    return Config(
        {
            "backend": {"db_uri": db_uri, "automigrate": "true"},
            "executors": {
                "default": {"type": "local", "mode": "thread"},
                "process": {"type": "local", "mode": "process"},
            },
            **sections,
        }
    )


def job_rows(scheduler: Scheduler) -> list[tuple]:
    """Every recorded job as (task, parent's task, execution #, cached, result type)."""
    session = scheduler.backend.session
    session.expire_all()
    roots = session.query(Execution).join(Job, Job.id == Execution.job_id)
    executions = {e.id: i for i, e in enumerate(roots.order_by(Job.start_time))}
    rows = []
    for job in session.query(Job):
        parent = job.parent_job.task.fullname if job.parent_job else None
        value = job.call_node.value.type if job.call_node else None
        rows.append((job.task.fullname, parent, executions[job.execution_id], job.cached, value))
    return sorted(rows, key=repr)


def tree(*rows: tuple) -> list[tuple]:
    return sorted(rows, key=repr)


@pytest.fixture(autouse=True)
def clear_calls() -> None:
    wf.CALLS.clear()


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="redun")
    return caplog


def test_extends_the_execution_from_a_worker_process(db_uri: str, log: Any) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    result = scheduler.run(subrun(wf.inner(1), executor="process", load_modules=[MODULE]))
    assert (result["leaf"], result["x"]) == (10, 1)
    assert result["pid"] != os.getpid()
    assert job_rows(scheduler) == tree(
        ("redun.root_task", None, 0, False, "builtins.dict"),
        (SUB, "redun.root_task", 0, False, "builtins.dict"),
        ("api_subrun.inner", SUB, 0, False, "builtins.dict"),
        ("api_subrun.leaf", "api_subrun.inner", 0, False, "builtins.int"),
    )
    messages = [record.getMessage() for record in log.records]
    begin = next(i for i, m in enumerate(messages) if m.startswith("BEGIN: Sub-scheduler report"))
    assert messages[begin] == (
        "BEGIN: Sub-scheduler report (executor='process'), api_subrun.inner(1)"
    )
    report = messages[begin:]
    assert report[1:3] == ["-" * 79, "Sub-scheduler config:"]
    assert "{'cache': True, 'dryrun': False}" in report
    assert any("api_subrun.leaf" in line for line in report)
    assert "END: Sub-scheduler report" in report


def test_a_registered_task_without_a_module_is_not_loaded(db_uri: str) -> None:
    """A task built by exec() (a notebook cell, a test helper) has no module to load."""
    namespace: dict = {}
    source = "def made_by_exec(x):\n    return x\n"
    exec(source, namespace)
    made = task(namespace["made_by_exec"], namespace="subrun_exec", source=source)
    assert made.load_module is None
    try:
        scheduler = Scheduler(config=make_config(db_uri))
        assert scheduler.run(subrun(wf.inner(2), executor="default"))["x"] == 2
    finally:
        get_task_registry()._forget(made)


def test_call_hashes_are_redun_s(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    scheduler.run(subrun(wf.inner(2), executor="default"))
    session = scheduler.backend.session
    for job in session.query(Job):
        node = job.call_node
        # As in redun, the caller hashes the subrun job without the jobs the
        # sub-scheduler stitched in below it: it only sees the final value.
        children = [] if job.task.fullname == SUB else [c.call_hash for c in job.child_jobs]
        assert node.call_hash == hash_call_node(
            node.task_hash, node.args_hash, node.value_hash, sorted(children)
        ), job.task.fullname


def test_an_error_is_raised_in_the_caller_and_recorded_down_the_tree(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    with pytest.raises(ValueError, match="BOOM 3"):
        scheduler.run(subrun(wf.fails(3), executor="default"))
    assert job_rows(scheduler) == tree(
        ("redun.root_task", None, 0, False, "redun.ErrorValue"),
        # The sub-scheduler itself finished: its report (a dict) carries the error.
        (SUB, "redun.root_task", 0, False, "builtins.dict"),
        ("api_subrun.fails", SUB, 0, False, "redun.ErrorValue"),
        ("api_subrun.boom", "api_subrun.fails", 0, False, "redun.ErrorValue"),
    )


def test_new_execution_and_the_cached_rerun(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    expr = subrun(wf.inner(4), executor="default", new_execution=True)
    first = scheduler.run(expr)
    again = scheduler.run(subrun(wf.inner(4), executor="default", new_execution=True))
    assert first == again and first["leaf"] == 40
    assert wf.CALLS == ["inner", "leaf"]  # the rerun started no sub-scheduler
    assert job_rows(scheduler) == tree(
        ("redun.root_task", None, 0, False, "builtins.dict"),
        (SUB, "redun.root_task", 0, False, "builtins.dict"),
        ("api_subrun.inner", None, 1, False, "builtins.dict"),
        ("api_subrun.leaf", "api_subrun.inner", 1, False, "builtins.int"),
        ("redun.root_task", None, 2, True, "builtins.dict"),
        (SUB, "redun.root_task", 2, True, "builtins.dict"),
    )


def test_extending_reruns_hit_the_cache_without_a_sub_scheduler(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    for _ in range(2):
        assert scheduler.run(subrun(wf.inner(5), executor="default"))["leaf"] == 50
    assert wf.CALLS == ["inner", "leaf"]
    assert [row for row in job_rows(scheduler) if row[2] == 1] == tree(
        ("redun.root_task", None, 1, True, "builtins.dict"),
        (SUB, "redun.root_task", 1, True, "builtins.dict"),
    )


def test_full_validity_checking_starts_the_sub_scheduler_which_uses_its_cache(
    db_uri: str,
) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    scheduler.run(subrun(wf.inner(6), executor="default"))
    full = subrun.options(check_valid="full")(wf.inner(6), executor="default")
    assert scheduler.run(full)["leaf"] == 60
    assert wf.CALLS == ["inner", "leaf"]
    rerun = [row for row in job_rows(scheduler) if row[2] == 1]
    assert rerun == tree(
        ("redun.root_task", None, 1, False, "builtins.dict"),
        (SUB, "redun.root_task", 1, False, "builtins.dict"),
        ("api_subrun.inner", SUB, 1, True, "builtins.dict"),
        ("api_subrun.leaf", "api_subrun.inner", 1, True, "builtins.int"),
    )


def test_cse_scope_reruns_the_sub_scheduler(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    for _ in range(2):
        scheduler.run(subrun.options(cache_scope="CSE")(wf.inner(7), executor="default"))
    rerun = [row for row in job_rows(scheduler) if row[2] == 1]
    assert (SUB, "redun.root_task", 1, False, "builtins.dict") in rerun
    assert ("api_subrun.inner", SUB, 1, True, "builtins.dict") in rerun


def test_cache_false_option_is_forwarded_and_nothing_is_reused(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    for _ in range(2):
        assert scheduler.run(subrun(wf.uncached(8), executor="default", cache=False)) == 9
    assert wf.CALLS == ["uncached", "uncached"]
    rerun = [row for row in job_rows(scheduler) if row[2] == 1]
    assert (SUB, "redun.root_task", 1, False, "builtins.dict") in rerun


def test_the_callers_run_config_reaches_the_sub_scheduler(db_uri: str, log: Any) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    assert scheduler.run(subrun(wf.inner(9), executor="default"), cache=False)["x"] == 9
    assert "{'cache': False, 'dryrun': False}" in [r.getMessage() for r in log.records]
    with pytest.raises(DryRunResult):
        Scheduler(config=make_config(db_uri)).run(
            subrun(wf.inner(10), executor="default"), dryrun=True
        )
    # Once the work is done a dry run has nothing left to do and returns the result.
    scheduler.run(subrun(wf.inner(10), executor="default"))
    assert scheduler.run(subrun(wf.inner(10), executor="default"), dryrun=True)["leaf"] == 100


def test_nested_expressions_and_plain_values(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    nested = scheduler.run(subrun([wf.leaf(1), [wf.leaf(2), {"x": wf.leaf(3)}]], "default"))
    assert nested == [10, [20, {"x": 30}]]
    assert scheduler.run(subrun(19, executor="default")) == 19


def test_context_reaches_tasks_in_the_sub_scheduler(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    context = {"stage": {"name": "outer"}}
    expr = subrun(wf.context_value(1), executor="process", load_modules=[MODULE])
    assert scheduler.run(expr, context=context) == (1, "outer")
    override = wf.context_value.update_context({"stage": {"name": "inner"}})
    assert scheduler.run(subrun(override(2), executor="default"), context=context) == (2, "inner")


def test_without_provenance_the_subrun_is_a_new_execution(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    assert scheduler.run(no_prov(subrun(wf.inner(11), executor="default")))["leaf"] == 110
    assert job_rows(scheduler) == tree(("redun.no_prov", None, 0, False, "builtins.dict"))


def test_a_config_dict_sends_the_sub_scheduler_to_another_database(
    db_uri: str, tmp_path: Path
) -> None:
    other_uri = f"sqlite:///{tmp_path / 'other.db'}"
    scheduler = Scheduler(config=make_config(db_uri))
    config = {"backend": {"db_uri": other_uri}}
    expr = subrun(wf.inner(12), executor="default", config=config, new_execution=True)
    assert scheduler.run(expr)["leaf"] == 120
    assert [row[0] for row in job_rows(scheduler)] == sorted(["redun.root_task", SUB])
    other = Scheduler(config=Config({"backend": {"db_uri": other_uri}}))
    other.load()
    assert job_rows(other) == tree(
        ("api_subrun.inner", None, 0, False, "builtins.dict"),
        ("api_subrun.leaf", "api_subrun.inner", 0, False, "builtins.int"),
    )
    # Extending needs the caller's database: a clear error says so.
    with pytest.raises(ValueError, match="Unknown parent_job_id: .* new_execution=True"):
        scheduler.run(subrun(wf.inner(13), executor="default", config=config))


def test_config_dir_is_loaded_where_the_sub_scheduler_runs(db_uri: str, tmp_path: Path) -> None:
    conf = tmp_path / "subconf"
    conf.mkdir()
    (conf / "redun.ini").write_text("[backend]\ndb_uri = sqlite:///sub.db\n")
    scheduler = Scheduler(config=make_config(db_uri))
    expr = subrun(wf.inner(14), executor="default", config_dir=str(conf), new_execution=True)
    assert scheduler.run(expr)["leaf"] == 140
    sub = Scheduler(config=Config({"backend": {"db_uri": f"sqlite:///{conf / 'sub.db'}"}}))
    sub.load()
    assert [row[0] for row in job_rows(sub)] == ["api_subrun.inner", "api_subrun.leaf"]
    missing = subrun(wf.inner(15), executor="default", config_dir=str(tmp_path / "nowhere"))
    with pytest.raises(Exception, match=r"config_dir=.*nowhere.*: no redun.ini there"):
        scheduler.run(missing)


def test_bad_calls_fail_like_redun(db_uri: str) -> None:
    scheduler = Scheduler(config=make_config(db_uri))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'executor'"):
        scheduler.run(subrun(wf.inner(16)))  # type: ignore[call-arg]
    with pytest.raises(SchedulerError, match='^Unknown executor "nope"'):
        scheduler.run(subrun(wf.inner(17), executor="nope"))
    with pytest.raises(ValueError, match="either config or config_dir"):
        scheduler.run(subrun(wf.inner(18), "default", {"backend": {}}, config_dir="x"))


def test_on_a_remote_executor_with_task_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sub-scheduler runs as one `redun oneshot` job of the engine, options included."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    engine = {"class": CLASS_PATH, "scratch": str(tmp_path / "scratch"), "code_package": "false"}
    scheduler = Scheduler(
        config=make_config(f"sqlite:///{tmp_path / 'shared.db'}", **{"executors.engine": engine})
    )
    expr = subrun(
        [wf.inner(20), wf.environment("SUBRUN_STAGE")],
        executor="engine",
        load_modules=[MODULE],
        env={"SUBRUN_STAGE": "on the engine"},
    )
    result, stage = scheduler.run(expr)
    assert stage == "on the engine"
    assert result["leaf"] == 200 and result["pid"] != os.getpid()
    rows = job_rows(scheduler)
    assert (SUB, "redun.root_task", 0, False, "builtins.dict") in rows
    assert ("api_subrun.leaf", "api_subrun.inner", 0, False, "builtins.int") in rows
