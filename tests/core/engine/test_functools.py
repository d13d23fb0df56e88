import pytest
from redun import task
from redun.functools import (
    apply_func,
    as_task,
    compose,
    const,
    delay,
    eval_,
    flat_map,
    flatten,
    force,
    identity,
    map_,
    seq,
    starmap,
    zip_,
)

redun_namespace = "functools_test"

order: list = []


@task
def double(x: int) -> int:
    return 2 * x


@task
def inc(x: int) -> int:
    return x + 1


@task
def numbers(n: int) -> list:
    return list(range(n))


@task
def repeat(x: int) -> list:
    return [x, x]


@task
def record(x):
    order.append(x)
    return x


@task
def add(a: int, b: int = 0) -> int:
    return a + b


def test_map_over_lists_and_lazy_lists(scheduler):
    assert scheduler.run(map_(double, [1, 2, 3])) == [2, 4, 6]
    assert scheduler.run(map_(double, numbers(3))) == [0, 2, 4]
    assert scheduler.run(map_(inc, map_(double, [1, 2]))) == [3, 5]


def test_starmap_flatten_flat_map_zip(scheduler):
    assert scheduler.run(starmap(add, [{"a": 1, "b": 2}, {"a": 5}])) == [3, 5]
    assert scheduler.run(flatten([[1], [2, 3], []])) == [1, 2, 3]
    assert scheduler.run(flat_map(repeat, [1, 2])) == [1, 1, 2, 2]
    assert scheduler.run(zip_([1, 2], numbers(2))) == [(1, 0), (2, 1)]


def test_compose_delay_force_identity(scheduler):
    assert scheduler.run(compose(inc, double)(5)) == 11
    assert scheduler.run(force(delay(double(4)))) == 8
    assert scheduler.run(identity(double(1))) == 2


def test_seq_and_const_force_order(scheduler):
    order.clear()
    assert scheduler.run(seq([record("a"), record("b")])) == ["a", "b"]
    assert order == ["a", "b"]
    assert scheduler.run(seq([])) == []
    assert scheduler.run(const(record("kept"), record("forced"))) == "kept"
    assert "forced" in order


def test_plain_functions_as_tasks_and_eval(scheduler):
    assert scheduler.run(as_task(max)(3, numbers(5)[4], 1)) == 4
    assert scheduler.run(apply_func(len, numbers(3))) == 3
    assert scheduler.run(eval_("x + y", x=numbers(2)[1], y=10)) == 11
    assert scheduler.run(eval_("a * b", 3, 4, pos_args=["a", "b"])) == 12
    with pytest.raises(TypeError, match="Wrong number of positional arguments"):
        scheduler.run(eval_("a", 1, 2, pos_args=["a"]))


def test_higher_order_tasks_take_tasks_as_values(scheduler):
    @task
    def apply_twice(func, x):
        return func(func(x))

    assert scheduler.run(apply_twice(double, 3)) == 12
    assert scheduler.run(apply_twice(add.partial(b=5), 0)) == 10
