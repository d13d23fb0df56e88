"""Which cached results may be reused: redun's validity rules for files, code and handles."""

from __future__ import annotations

import pickle
from pathlib import Path

from redun import File, Handle, get_task_registry, task
from redun.expression import TaskExpression
from redun.task import Task
from redun.value import get_type_registry

redun_namespace = "validity_test"

ran: list = []


def setup_function() -> None:
    ran.clear()


@task
def read_text(file: File) -> str:
    ran.append("read_text")
    return file.read()


@task
def open_and_read(path: str) -> str:
    ran.append("open_and_read")
    # The File is hashed here and travels inside the returned expression.
    return read_text(File(path))


@task
def wrapper(path: str) -> str:
    ran.append("wrapper")
    return open_and_read(path)


@task(check_valid="full")
def full_top(path: str) -> str:
    ran.append("top")
    return wrapper(path)


@task(check_valid="shallow")
def shallow_top(path: str) -> str:
    ran.append("top")
    return wrapper(path)


def test_full_check_reruns_when_a_file_read_deep_in_the_tree_changed(repo, tmp_path: Path):
    data = tmp_path / "data.txt"
    data.write_text("first")
    assert repo().run(full_top(str(data))) == "first"
    data.write_text("second")
    ran.clear()
    assert repo().run(full_top(str(data))) == "second"
    # The tasks above the one that made the File keep their cached one-step results.
    assert ran == ["open_and_read", "read_text"]


def test_full_check_through_options_overrides_a_shallow_task(repo, tmp_path: Path):
    data = tmp_path / "data.txt"
    data.write_text("first")
    assert repo().run(shallow_top(str(data))) == "first"
    data.write_text("second")
    ran.clear()
    assert repo().run(shallow_top.options(check_valid="full")(str(data))) == "second"
    assert ran == ["open_and_read", "read_text"]


def test_default_check_is_full(repo, tmp_path: Path):
    data = tmp_path / "data.txt"
    data.write_text("first")
    assert repo().run(wrapper(str(data))) == "first"
    data.write_text("second")
    assert repo().run(wrapper(str(data))) == "second"


def test_shallow_check_returns_the_final_result_of_unchanged_code(repo, tmp_path: Path):
    """redun's ultimate reduction: only the code of the subtree is checked, not its data."""
    data = tmp_path / "data.txt"
    data.write_text("first")
    assert repo().run(shallow_top(str(data))) == "first"
    data.write_text("second")
    ran.clear()
    assert repo().run(shallow_top(str(data))) == "first"
    assert ran == []


def test_an_expression_of_a_task_that_no_longer_exists_is_not_valid(tmp_path: Path):
    registry = get_task_registry()

    @task(namespace="validity_test", name="soon_gone")
    def soon_gone(x: int) -> int:
        return x

    expr = soon_gone(1)
    data = pickle.dumps(expr)
    types = get_type_registry()
    assert types.is_valid(pickle.loads(data))
    registry.rename("validity_test.soon_gone", "validity_test", "renamed_away")
    try:
        loaded = pickle.loads(data)
        assert isinstance(loaded, TaskExpression)
        assert not types.is_valid(loaded)
        # Nested inside other values and other expressions too.
        assert not types.is_valid_nested({"x": [loaded]})
        assert not types.is_valid(read_text(loaded))
    finally:
        registry.rename("validity_test.renamed_away", "validity_test", "soon_gone")


def test_an_expression_whose_file_argument_changed_is_not_valid(tmp_path: Path):
    data = tmp_path / "data.txt"
    data.write_text("first")
    expr = read_text(File(str(data))) + "!"
    types = get_type_registry()
    assert types.is_valid(expr)
    data.write_text("second")
    assert not types.is_valid(expr)


def test_a_deserialized_task_whose_code_no_longer_exists_is_not_valid():
    registry = get_task_registry()

    @task(namespace="validity_test", name="versioned_gone", version="1")
    def versioned_gone(x: int) -> int:
        return x

    data = pickle.dumps(versioned_gone)
    assert pickle.loads(data).is_valid()
    registry.rename("validity_test.versioned_gone", "validity_test", "versioned_renamed")
    try:
        loaded = pickle.loads(data)
        assert isinstance(loaded, Task)
        # A version pins the hash, but there is no code behind it any more.
        assert not loaded.is_valid()
    finally:
        registry.rename("validity_test.versioned_renamed", "validity_test", "versioned_gone")


@task
def make_task_value(name: str) -> Task:
    ran.append("make_task_value")
    return get_task_registry().get(f"validity_test.{name}")


def test_a_cached_task_value_of_removed_code_reruns_its_producer(repo):
    @task(namespace="validity_test", name="producer_target", version="1")
    def producer_target(x: int) -> int:
        return x

    result = repo().run(make_task_value("producer_target"))
    assert result.fullname == "validity_test.producer_target"
    assert ran == ["make_task_value"]
    registry = get_task_registry()
    registry.rename("validity_test.producer_target", "validity_test", "producer_moved")
    try:
        ran.clear()
        # The recorded Task value has no code behind it now: the producer runs again.
        assert repo().run(make_task_value("producer_target")) is None
        assert ran == ["make_task_value"]
    finally:
        registry.rename("validity_test.producer_moved", "validity_test", "producer_target")


class Journal(Handle):
    def __init__(self, name: str) -> None:
        self.name = name


@task
def write_entry(journal: Journal, entry: str) -> Journal:
    ran.append(entry)
    return journal


@task
def first_branch(journal: Journal) -> Journal:
    return write_entry(write_entry(journal, "a1"), "a2")


@task
def second_branch(journal: Journal) -> Journal:
    return write_entry(journal, "b1")


def test_a_handle_sent_down_another_branch_invalidates_the_superseded_branch(any_repo):
    steps = [
        (first_branch, ["a1", "a2"]),
        (first_branch, []),
        # The same initial state goes down another branch: a1 and a2 are superseded...
        (second_branch, ["b1"]),
        # ...so the first branch runs again, every step of it.
        (first_branch, ["a1", "a2"]),
        # And now the second branch is the superseded one...
        (second_branch, ["b1"]),
        # ...and the first branch, re-run once, is current until superseded again.
        (first_branch, ["a1", "a2"]),
        (first_branch, []),
    ]
    for number, (branch, expected) in enumerate(steps):
        any_repo().run(branch(Journal("journal")))
        assert ran == expected, f"step {number}: {branch.name}"
        ran.clear()
