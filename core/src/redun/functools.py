"""Higher-order tasks: map, compose, sequencing and friends, all lazy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from textwrap import dedent
from typing import TYPE_CHECKING, Any, TypeVar

from redun.expression import Expression, QuotedExpression, SchedulerExpression, quote
from redun.promise import Promise
from redun.task import PartialTask, Task, scheduler_task, task

if TYPE_CHECKING:
    from redun.scheduler import Job

T = TypeVar("T")

_NO_PROV_HASH = "2f37567e3473c0a6aa6285e3ddfe1de3d682f03b"
_NO_PROV_HELPER_HASH = "b5770d718bb65d7c6d9135eca773128c18359d57"


@task(namespace="redun", version="1")
def compose_apply(tasks: Sequence[Task], *args: Any, **kwargs: Any) -> Any:
    """Call the last task with the arguments, then each earlier task on the result."""
    ordered = list(tasks)
    result = ordered.pop()(*args, **kwargs)
    for a_task in reversed(ordered):
        result = a_task(result)
    return result


def compose(*tasks: Task) -> Task:
    """``compose(f, g)(x) == f(g(x))``, as a task value."""
    return compose_apply.partial(tasks)


@task(namespace="redun", version="1")
def identity(x: T) -> T:
    return x


def delay(x: T) -> PartialTask:
    """A task value that evaluates to `x` when forced."""
    return identity.partial(x)


def force(x: Task) -> Any:
    """Evaluate a delayed value."""
    return x()


@scheduler_task(namespace="redun")
def seq(
    scheduler: Any, parent_job: Job, sexpr: SchedulerExpression, exprs: Sequence[Any]
) -> Promise:
    """Evaluate expressions one after another (not in parallel); a list of their values."""
    items = list(exprs)
    results: list[Any] = []
    if not items:
        return Promise(lambda resolve, reject: resolve([]))

    def then(pair: tuple) -> Any:
        i, value = pair
        results.append(value)
        if i + 1 < len(items):
            return scheduler.evaluate((i + 1, items[i + 1]), parent_job=parent_job).then(then)
        return results

    return scheduler.evaluate((0, items[0]), parent_job=parent_job).then(then)


@task(namespace="redun", version="1")
def const(x: T, _: Any) -> T:
    """`x`, once `_` has been evaluated (forces a side effect to happen first)."""
    return x


@task(namespace="redun", version="1")
def apply_func(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return func(*args, **kwargs)


def as_task(func: Callable[..., T]) -> PartialTask:
    """Lift a plain module-level function into a task value."""
    return apply_func.partial(func)


@task(namespace="redun", version="1")
def eval_(code: str, *args: Any, **kwargs: Any) -> Any:
    """Evaluate Python `code` with keyword arguments (and `pos_args` names) as variables."""
    pos_args = kwargs.pop("pos_args", [])
    if len(pos_args) != len(args):
        raise TypeError(
            f"Wrong number of positional arguments given {len(args)}, expected {len(pos_args)}."
        )
    variables = dict(zip(pos_args, args))
    variables.update(kwargs)
    return eval(dedent(code), variables)


@scheduler_task(namespace="redun", version="1")
def map_(
    scheduler: Any, parent_job: Job, sexpr: SchedulerExpression, a_task: Task, values: Sequence[Any]
) -> Promise:
    """Apply `a_task` to each value, in parallel; nested ``map_`` calls fuse into one."""
    tasks = [a_task]
    while isinstance(values, SchedulerExpression) and values.task_name == "redun.map_":
        tasks.append(values.args[0])
        values = values.args[1]
    mapped_task = tasks[0] if len(tasks) == 1 else compose(*tasks)

    def apply(the_task: Task, the_values: Sequence[Any]) -> Promise:
        return scheduler.evaluate([the_task(value) for value in the_values], parent_job=parent_job)

    def then(the_task: Task) -> Promise:
        if isinstance(values, (list, tuple)):
            return apply(the_task, values)
        return scheduler.evaluate(values, parent_job=parent_job).then(
            lambda the_values: apply(the_task, the_values)
        )

    return scheduler.evaluate(mapped_task, parent_job=parent_job).then(then)


def starmap(a_task: Task, kwargs: list[dict] | Expression | None = None) -> Any:
    """Call `a_task(**kw)` for each dict in `kwargs`."""
    return map_(
        eval_.partial("a_task(**x)", pos_args=["x"], a_task=a_task),
        kwargs if kwargs is not None else [],
    )


@task(namespace="redun", version="1")
def flatten(list_of_lists: Sequence[Sequence[T]]) -> list[T]:
    return [value for inner in list_of_lists for value in inner]


@task(namespace="redun", version="1")
def flat_map(a_task: Task, values: list) -> list:
    """Map `a_task` (returning lists) over values and concatenate the results."""
    return flatten(map_(a_task, values))


@task(namespace="redun", version="1")
def zip_(*lists: list) -> list[tuple]:
    return list(zip(*lists))


@task(name="no_prov_helper", namespace="redun", prov=False, compat=[_NO_PROV_HELPER_HASH])
def _no_prov_helper(expr: QuotedExpression[T]) -> T:
    return expr.eval()


@task(name="no_prov", namespace="redun", check_valid="shallow", compat=[_NO_PROV_HASH])
def _no_prov(expr: QuotedExpression[T]) -> T:
    return _no_prov_helper(expr)


def no_prov(expr: T) -> T:
    """Evaluate `expr` without recording its subtasks; the outer call is recorded and
    cached with shallow checking, so the whole sub-workflow can be fast-forwarded."""
    return _no_prov(quote(expr))


__all__ = [
    "apply_func",
    "as_task",
    "compose",
    "compose_apply",
    "const",
    "delay",
    "eval_",
    "flat_map",
    "flatten",
    "force",
    "identity",
    "map_",
    "no_prov",
    "seq",
    "starmap",
    "zip_",
]
