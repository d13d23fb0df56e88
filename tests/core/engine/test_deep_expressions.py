"""Expressions nested 10,000 deep: hashed, pickled, unpickled and run without RecursionError.

redun 0.44.1 recurses once per nesting level and fails from about 150 deep.
Hashes and pickles of nested expressions are persistent identifiers, so the
shallow cases below are pinned to what redun 0.44 recorded (redun044.db) or to
digests taken before hashing and pickling stopped recursing.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from redun import task
from redun.expression import Expression, SimpleExpression, TaskExpression, _pickling
from redun.hashing import hash_arguments, hash_bytes, hash_struct
from redun.utils import pickle_dumps
from redun.value import get_type_registry

from tests.core.engine import golden_workflow as gw

redun_namespace = "deep_test"

DATA = Path(__file__).parent / "data"
DEPTH = 10_000

calls: list[int] = []


@task()
def inc(x: int) -> int:
    calls.append(x)
    return x + 1


@task()
def task_chain(n: int) -> int:
    value = 0
    for _ in range(n):
        value = inc(value)
    return value


@task()
def operator_chain(n: int) -> int:
    value = inc(0)
    for _ in range(n):
        value = value + 1
    return value


def build_chain(depth: int) -> Expression:
    value: Any = 0
    for _ in range(depth):
        value = inc(value)
    return value


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def test_a_nested_expression_hashes_and_pickles_as_redun_044_recorded_it():
    db = sqlite3.connect(DATA / "redun044.db")
    value_hash, recorded = db.execute(
        "select value_hash, value from value where type = 'redun.expression.TaskExpression'"
    ).fetchone()

    def build() -> Expression:
        return gw.summarize([gw.double(gw.add(i, 1)) for i in range(3)])

    assert build().get_hash() == value_hash
    assert pickle_dumps(build()) == recorded
    hashed_first = build()
    hashed_first.get_hash()
    assert pickle_dumps(hashed_first) == recorded
    loaded = pickle.loads(recorded)
    assert loaded.get_hash() == value_hash
    assert pickle_dumps(loaded) == recorded


def shared_args() -> Expression:
    inner = gw.add(1, 2)
    return gw.add(inner, inner)


def keyword_args() -> Expression:
    inner = gw.add(1, 2)
    return gw.add(inner, b=gw.double(inner) + 1)


def operators() -> Expression:
    inner = gw.add(1, 2)
    return ((inner + 1) * 2)[0].real(3, k=inner)


def options() -> Expression:
    return gw.add.options(cache=False)(gw.double.options(limits=["x"])(1), 2)


def alternating_chain() -> Expression:
    value: Any = 0
    for i in range(50):
        value = gw.add(value, i) + 1
    return value


@pytest.mark.parametrize(
    ("build", "expr_hash", "pickle_sha1"),
    [
        (
            shared_args,
            "67d62bc445a71ee64f31d87aa9f8835e0e9ad645",
            "88388b077ecbf762b17ea532776897da417b827d",
        ),
        (
            keyword_args,
            "ce9ff4c3eeec5705e3fb617637c9bf96eb217ec7",
            "cebd5f6d3bf74ac44d805e17a8f0a34a2fef9289",
        ),
        (
            operators,
            "d62b1915b47986673446581726247e33c700ee20",
            "56a9b14f50510c402a5c98a395da1d0bb4bbaaed",
        ),
        (
            options,
            "fa478fe3ebcae6648b51b2f74ccac064d97fb273",
            "e33b8d281cfea7f5fdb986278922d5eedd493015",
        ),
        (
            alternating_chain,
            "fa00550479f4d45e7932b4f9805967f091f78712",
            "13b6c689ef0a76064d145a3d9c34a8a08e791682",
        ),
    ],
)
def test_shallow_nested_hashes_and_pickles_are_unchanged(build, expr_hash, pickle_sha1):
    data = pickle_dumps(build())
    assert sha1(data) == pickle_sha1
    assert build().get_hash() == expr_hash
    loaded = pickle.loads(data)
    assert loaded.get_hash() == expr_hash
    assert sha1(pickle_dumps(loaded)) == pickle_sha1


def test_a_deep_hash_follows_the_formula_at_every_level():
    registry = get_type_registry()
    options_hash = hash_bytes(pickle_dumps({}))

    def task_expression_hash(args_hash: str) -> str:
        return hash_struct(["TaskExpression", "deep_test.inc", args_hash, options_hash])

    expected = task_expression_hash(hash_arguments(registry, (0,), {}))
    for _ in range(DEPTH - 1):
        expected = task_expression_hash(hash_struct(["TaskArguments", [expected], {}]))
    assert build_chain(DEPTH).get_hash() == expected


@pytest.mark.slow
def test_a_deep_chain_unpickles_whole():
    expr = build_chain(DEPTH)
    data = pickle_dumps(expr)
    loaded = pickle.loads(data)
    assert loaded.get_hash() == expr.get_hash()
    assert pickle_dumps(loaded) == data
    level = loaded
    for _ in range(DEPTH):
        assert isinstance(level, TaskExpression) and level.task_name == "deep_test.inc"
        (level,) = level.args
    assert level == 0


def test_a_deep_operator_chain_hashes_and_round_trips():
    expr: Any = inc(0)
    for _ in range(DEPTH):
        expr = expr + 1
    loaded = pickle.loads(pickle_dumps(expr))
    assert isinstance(loaded, SimpleExpression)
    assert loaded.get_hash() == expr.get_hash()


@pytest.mark.slow
def test_a_10000_deep_task_chain_runs_then_reruns_from_cache(repo):
    calls.clear()
    assert repo().run(task_chain(DEPTH)) == DEPTH
    assert calls == list(range(DEPTH))
    calls.clear()
    # The cached result of task_chain is the whole chain, unpickled from the database.
    assert repo().run(task_chain(DEPTH)) == DEPTH
    assert calls == []


def test_a_10000_deep_operator_chain_runs_then_reruns_from_cache(repo):
    calls.clear()
    assert repo().run(operator_chain(DEPTH)) == DEPTH + 1
    assert calls == [0]
    calls.clear()
    assert repo().run(operator_chain(DEPTH)) == DEPTH + 1
    assert calls == []


def test_a_deep_expression_given_to_the_scheduler_runs(scheduler):
    expr: Any = inc(0)
    for _ in range(DEPTH):
        expr = expr + 1
    assert scheduler.run(expr) == DEPTH + 1


def _explode() -> None:
    raise ValueError("cannot load")


class LoadsBadly:
    def __reduce__(self) -> tuple:
        return (_explode, ())


def test_a_failed_pickle_leaves_no_state_behind():
    with pytest.raises(pickle.PicklingError):
        pickle_dumps(inc(inc(threading.Lock())))
    assert _pickling.states == {}


def test_a_failed_unpickle_does_not_disturb_the_next_one():
    with pytest.raises(ValueError, match="cannot load"):
        pickle.loads(pickle_dumps(inc(inc(LoadsBadly()))))
    loaded = pickle.loads(pickle_dumps(inc(inc(1))))
    assert loaded.args[0].args == (1,)
