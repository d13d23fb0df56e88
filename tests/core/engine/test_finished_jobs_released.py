"""A finished job's bookkeeping is released while its parent runs on (issue 19, target 3).

A parent of a million children must not keep a million Jobs alive: each child
leaves a FinishedChild in its parent's list, and its started-expression entry
goes, while the call graph recorded stays what it was.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from redun import Scheduler, cond, task
from redun.plugins import hookimpl
from redun.scheduler.jobs import FinishedChild, Job

redun_namespace = "test_finished_jobs_released"

N = 40


@task()
def leaf(i: int) -> int:
    return i


@task()
def total(values: list) -> int:
    return sum(values)


@task()
def fan(n: int) -> int:
    return total([leaf(i) for i in range(n)])


class LiveJobs:
    """On `total`'s end (scheduler thread, all leaves long finished): what is alive."""

    def __init__(self) -> None:
        self.live_leaves: int | None = None
        self.parent_children: list[Any] = []

    @hookimpl
    def redun_job_done(self, scheduler: Scheduler, job: Any, result: Any) -> None:
        if job.task.name != "total" or self.live_leaves is not None:
            return
        gc.collect()
        self.live_leaves = sum(
            1 for obj in gc.get_objects() if type(obj) is Job and obj.task.name == "leaf"
        )
        self.parent_children = list(job.parent_job.child_jobs)


@pytest.fixture
def live(register_plugin: Callable[[object, str], None]) -> LiveJobs:
    plugin = LiveJobs()
    register_plugin(plugin, "live-jobs")
    return plugin


def test_finished_children_are_not_kept_alive_by_their_running_parent(
    live: LiveJobs, scheduler: Scheduler
) -> None:
    assert scheduler.run(fan(N)) == sum(range(N))
    assert live.live_leaves == 0
    leaves = [child for child in live.parent_children if child.task.name == "leaf"]
    assert len(leaves) == N
    assert all(type(child) is FinishedChild for child in leaves)
    assert all(child.call_hash and child.status == "DONE" for child in leaves)


def test_the_recorded_call_graph_names_every_finished_child(repo, tmp_path) -> None:
    assert repo().run(fan(N)) == sum(range(N))
    db = sqlite3.connect(tmp_path / "redun.db")
    ((fan_call,),) = db.execute(
        "select j.call_hash from job j join call_node c on c.call_hash = j.call_hash "
        "where c.task_name = ?",
        (f"{redun_namespace}.fan",),
    )
    edges = db.execute(
        "select e.child_id, c.task_name from call_edge e "
        "join call_node c on c.call_hash = e.child_id where e.parent_id = ? order by e.call_order",
        (fan_call,),
    ).fetchall()
    leaf_calls = {
        call
        for (call,) in db.execute(
            "select call_hash from call_node where task_name = ?", (f"{redun_namespace}.leaf",)
        )
    }
    # total's job is made first, then its argument's leaves (as redun orders them).
    assert [name for _, name in edges] == [f"{redun_namespace}.total"] + [
        f"{redun_namespace}.leaf"
    ] * N
    assert {child for child, _ in edges[1:]} == leaf_calls
    assert len(leaf_calls) == N


def test_an_expression_evaluated_again_after_it_finished_shares_its_call(repo, tmp_path) -> None:
    runs = []

    @task(name="counted_leaf", namespace=redun_namespace)
    def counted(i: int) -> int:
        runs.append(i)
        return i

    @task(name="reuse", namespace=redun_namespace)
    def reuse(n: int) -> Any:
        first = counted.options(cache=False)(n)
        # cond evaluates `first` again once `total([first])` is known: by then it has ended.
        return cond(total([first]), first, 0)

    assert repo().run(reuse(7)) == 7
    assert runs == [7]
    db = sqlite3.connect(tmp_path / "redun.db")
    names = [
        name
        for (name,) in db.execute(
            "select c.task_name from call_edge e join call_node c on c.call_hash = e.child_id "
            "join call_node p on p.call_hash = e.parent_id where p.task_name = ? "
            "order by e.call_order",
            (f"{redun_namespace}.reuse",),
        )
    ]
    assert names == [f"{redun_namespace}.total", f"{redun_namespace}.counted_leaf"]
