"""Upstream dataflow of recorded values: redun.backends.db.dataflow and `redun log <value>`."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from redun import Scheduler, task
from redun.backends.db import CallNode, Job, Value
from redun.backends.db.dataflow import (
    DataflowSectionDOM,
    display_dataflow,
    make_dataflow_dom,
    serialize_dataflow,
    walk_dataflow,
)
from redun.config import Config
from redun.value import get_type_registry
from sqlalchemy import select

redun_namespace = f"dataflow_{uuid.uuid4().hex[:8]}"


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def double(x: int) -> int:
    return 2 * x


@task()
def chain(x: int, y: int) -> int:
    return double(add(x, y))


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def gather(n: int) -> int:
    return total([add(n, 1), add(n, 2)])


@task()
def pair(a: int, b: int) -> list:
    return [add(a, 1), double(b)]


@task()
def pick(a: int, b: int) -> int:
    return pair(a, b)[1]


@pytest.fixture
def scheduler(db_uri: str) -> Scheduler:
    """A scheduler on an empty SQLite or PostgreSQL repository."""
    config = Config({"backend": {"db_uri": db_uri}})
    scheduler = Scheduler(config=config)
    scheduler.load(migrate=True)
    return scheduler


def call_hash(scheduler: Scheduler, task_name: str) -> str:
    session = scheduler.backend.session
    return session.scalars(
        select(CallNode.call_hash).where(CallNode.task_name == f"{redun_namespace}.{task_name}")
    ).one()[:8]


def value_hash(value: object) -> str:
    """The short hash a recorded value shows with (the same formula as redun's)."""
    return get_type_registry().get_hash(value)[:8]


def call_hash_of(scheduler: Scheduler, task_name: str, args: tuple) -> str:
    """The short hash of the call of `task_name` on these positional arguments."""
    session = scheduler.backend.session
    for call_node in session.scalars(
        select(CallNode).where(CallNode.task_name == f"{redun_namespace}.{task_name}")
    ):
        given = tuple(
            arg.value_parsed for arg in sorted(call_node.arguments, key=lambda a: a.arg_position)
        )
        if given == args:
            return call_node.call_hash[:8]
    raise AssertionError(f"no call {task_name}{args}")


def dataflow(scheduler: Scheduler, result_hash: str) -> list[str]:
    session = scheduler.backend.session
    value = session.get(Value, result_hash)
    edges = walk_dataflow(scheduler.backend, value)
    return list(display_dataflow(make_dataflow_dom(edges, new_varname="result")))


def result_hash(scheduler: Scheduler, task_name: str) -> str:
    session = scheduler.backend.session
    return session.scalars(
        select(CallNode.value_hash).where(CallNode.task_name == f"{redun_namespace}.{task_name}")
    ).first()


def test_a_chain_of_calls_back_to_the_caller_s_arguments(scheduler: Scheduler) -> None:
    assert scheduler.run(chain(3, 4)) == 14
    h = {name: call_hash(scheduler, name) for name in ("chain", "add", "double")}
    v = {n: value_hash(n) for n in (3, 4, 7)}
    assert dataflow(scheduler, result_hash(scheduler, "chain")) == [
        f"result <-- <{h['double']}> double(x)",
        f"  x = <{v[7]}> 7",
        "",
        f"x <-- <{h['add']}> add(a, b)",
        f"  a = <{v[3]}> 3",
        f"  b = <{v[4]}> 4",
        "",
        f"a <-- argument of <{h['chain']}> chain(x, y)",
        "  <-- origin",
        "",
        f"b <-- argument of <{h['chain']}> chain(x, y)",
        "  <-- origin",
        "",
    ]


def test_a_list_built_from_results_derives_from_them(scheduler: Scheduler) -> None:
    assert scheduler.run(gather(5)) == 13
    lines = dataflow(scheduler, result_hash(scheduler, "gather"))
    assert lines[:3] == [
        f"result <-- <{call_hash(scheduler, 'total')}> total(values)",
        f"  values = <{value_hash([6, 7])}> [6, 7]",
        "",
    ]
    assert lines[3:6] == [
        "values <-- derives from",
        f"  add_result   = <{value_hash(6)}> 6",
        f"  add_result_2 = <{value_hash(7)}> 7",
    ]
    # Each result's own paragraph, its arguments named apart from the first's.
    assert f"add_result <-- <{call_hash_of(scheduler, 'add', (5, 1))}> add(a, b)" in lines
    assert f"add_result_2 <-- <{call_hash_of(scheduler, 'add', (5, 2))}> add(a_3, b_2)" in lines
    assert f"  b_2 = <{value_hash(2)}> 2" in lines
    # Both calls got n from gather: that value is named once and referred to.
    gather_call = call_hash(scheduler, "gather")
    assert "a <-- a_2" in lines and "a_3 <-- a_2" in lines
    start = lines.index(f"a_2 <-- argument of <{gather_call}> gather(n)")
    assert lines[start + 1] == "    <-- origin"


def test_a_part_of_a_result_is_followed_into_the_child_that_made_it(
    scheduler: Scheduler,
) -> None:
    assert scheduler.run(pick(1, 10)) == 20
    lines = dataflow(scheduler, result_hash(scheduler, "pick"))
    # pick's result is element 1 of pair's result, which double computed.
    assert lines[0] == f"result <-- <{call_hash(scheduler, 'double')}> double(x)"
    assert lines[1] == f"  x = <{value_hash(10)}> 10"
    assert lines[3] == f"x <-- argument of <{call_hash(scheduler, 'pair')}> pair(a, b)"


def test_the_dom_and_its_json(scheduler: Scheduler) -> None:
    scheduler.run(chain(1, 2))
    value = scheduler.backend.session.get(Value, result_hash(scheduler, "chain"))
    dom = list(make_dataflow_dom(walk_dataflow(scheduler.backend, value)))
    assert all(isinstance(section, DataflowSectionDOM) for section in dom)
    assert [section.assign.var_name for section in dom] == ["value", "x", "a", "b"]
    first = next(serialize_dataflow(dom))
    assert first["assign"]["var_name"] == "value"
    assert first["assign"]["display"] == "double(x)"
    assert first["assign"]["job_id"] is not None
    full = get_type_registry().get_hash(3)
    assert first["args"] == [{"var_name": "x", "hash": full, "value_display": "3"}]


WORKFLOW = """
from redun import task

redun_namespace = "{ns}"


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def main(x: int = 2) -> int:
    return add(x, 40)
"""


def test_redun_log_of_a_value_shows_its_upstream_dataflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redun.cli import RedunClient

    monkeypatch.chdir(tmp_path)
    name = f"wf_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(WORKFLOW.format(ns=name))
    client = RedunClient(stdout=io.StringIO())
    client.execute(["redun", "init"])
    assert client.execute(["redun", "run", f"{name}.py", "main"]) == 42
    session = client.scheduler.backend.session
    add_hash = session.scalars(
        select(CallNode.call_hash).where(CallNode.task_name == f"{name}.add")
    ).one()
    main_hash = session.scalars(
        select(CallNode.call_hash).where(CallNode.task_name == f"{name}.main")
    ).one()
    result = session.get(CallNode, add_hash).value_hash

    client.stdout = io.StringIO()
    client.execute(["redun", "log", result[:10]])
    text = client.stdout.getvalue()
    expected = "\n".join(
        [
            "Upstream dataflow:",
            "",
            "  value = 42",
            "",
            f"  value <-- <{add_hash[:8]}> add(a, b)",
            f"    a = <{value_hash(2)}> 2",
            f"    b = <{value_hash(40)}> 40",
            "",
            f"  a <-- argument of <{main_hash[:8]}> main(x)",
            "    <-- origin",
            "",
            "  b <-- origin",
        ]
    )
    assert expected in text

    # A call node's and a job's detail end with their result's dataflow, as in redun.
    client.stdout = io.StringIO()
    client.execute(["redun", "log", add_hash[:12]])
    lines = client.stdout.getvalue().splitlines()
    start = lines.index("Upstream dataflow:")
    assert lines[start + 2 : start + 5] == [
        "  result = 42",
        "",
        f"  result <-- <{add_hash[:8]}> add(a, b)",
    ]
    job_id = session.scalars(select(Job.id).where(Job.call_hash == add_hash)).one()
    client.stdout = io.StringIO()
    client.execute(["redun", "log", job_id[:12]])
    lines = client.stdout.getvalue().splitlines()
    start = lines.index("  Upstream dataflow:")
    assert lines[start + 2] == "    result = 42"
    assert lines[start + 4] == f"    result <-- <{add_hash[:8]}> add(a, b)"
