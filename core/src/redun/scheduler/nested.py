"""Fast questions about nested argument and result values, asked for every job."""

from __future__ import annotations

import dataclasses
from typing import Any

from redun.expression import Expression, SchedulerExpression, TaskExpression
from redun.promise import Promise
from redun.task import Task
from redun.utils import iter_nested_value

# Leaves of these types need no preprocessing, postprocessing or evaluation.
PLAIN_TYPES = frozenset([int, float, str, bytes, bool, type(None), complex])


def resolved(value: Any) -> Promise:
    promise: Promise = Promise()
    promise.do_resolve(value)
    return promise


def _scan(value: Any, find_expression: bool) -> bool:
    """Walk a nested value without generators (the hot path sees mostly tiny values).

    With `find_expression`, whether any leaf is an Expression; otherwise
    whether any leaf is not a plain builtin (so pre/postprocessing can be skipped).
    """
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind in PLAIN_TYPES:
            continue
        if kind is list or kind is tuple or kind is set:
            extend(item)
            continue
        if kind is dict:
            extend(item)
            extend(item.values())
            continue
        if isinstance(item, Expression):
            return True
        if isinstance(item, tuple):
            extend(item)
        elif dataclasses.is_dataclass(kind):
            extend(getattr(item, field.name) for field in dataclasses.fields(item))
        elif not find_expression:
            return True
    return False


def has_expression(value: Any) -> bool:
    return _scan(value, True)


def is_plain(value: Any) -> bool:
    return not _scan(value, False)


def get_arg_defaults(task: Task, args: tuple, kwargs: dict) -> dict:
    """Signature defaults of the parameters a call leaves out."""
    defaults = {}
    for i, param in enumerate(task.signature.parameters.values()):
        if i < len(args) or param.name in kwargs:
            continue
        if param.default is not param.empty:
            defaults[param.name] = param.default
    return defaults


def needs_root_task(task_registry: Any, expr: Any) -> bool:
    """Whether `expr` must be wrapped so that one job spans the whole execution."""
    if not isinstance(expr, TaskExpression) or isinstance(expr, SchedulerExpression):
        return True
    task = task_registry.get(expr.task_name)
    if task is None:
        return True
    defaults = get_arg_defaults(task, expr.args, expr.kwargs)
    return has_expression((expr.args, expr.kwargs, defaults))


def upstream_call_hashes(expr_arg: Any) -> set[str]:
    """Call hashes of the task calls whose results flowed into an argument."""
    found: set[str] = set()
    stack = [expr_arg]
    seen: set[int] = set()
    while stack:
        for value in iter_nested_value(stack.pop()):
            if not isinstance(value, Expression) or id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, TaskExpression) and not isinstance(value, SchedulerExpression):
                if value.call_hash:
                    found.add(value.call_hash)
            else:
                stack.append(value._upstreams)
    return found
