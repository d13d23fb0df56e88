"""Lazy expressions: what calling a task builds, and what the scheduler reduces.

Expression hashes and pickled state are persistent identifiers (they appear in
redun databases), so both follow redun's formulas and field names exactly.

Both formulas nest: a hash covers the hashes of the expressions in the
arguments, and a pickled state holds the pickled arguments, nested
expressions included. A task building ``inc(inc(...inc(0)))`` nests them
thousands deep, so hashing, pickling and unpickling visit nested expressions
with explicit stacks and queues rather than by recursion.
"""

from __future__ import annotations

import operator
import threading
from collections import deque
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, Generic, TypeVar

from redun.hashing import hash_arguments, hash_bytes, hash_struct
from redun.utils import iter_nested_value, pickle_dumps
from redun.value import Value, get_type_registry

Result = TypeVar("Result")

# Shared by every call without options; never mutated (options are replaced, not edited).
# Plain dict and set, so that pickles and the hashes over them stay redun's.
_NO_OPTIONS: dict[str, Any] = {}
_NO_EXPORTS: set[str] = set()

AnyExpression = Any


def derive_expression(orig_expr: Expression, derived_value: Any) -> Expression:
    """Wrap `derived_value` as an expression whose dataflow comes from `orig_expr`."""
    derived = (
        derived_value if isinstance(derived_value, Expression) else ValueExpression(derived_value)
    )
    derived._upstreams = [orig_expr]
    return derived


def _no_task_registered(task_name: str) -> bool:
    return False


# Whether a task of a full name is registered in this process. Tasks build expressions,
# so expressions name tasks only by name and never import them: `redun.task`, which
# holds the registry, installs its lookup here when it is imported.
_task_lookup: list[Callable[[str], bool]] = [_no_task_registered]


def set_task_lookup(lookup: Callable[[str], bool]) -> None:
    """How `Expression.is_valid` asks whether a task name is registered (see above)."""
    _task_lookup[0] = lookup


class Expression(Value, Generic[Result]):
    """A value that does not exist yet: the scheduler reduces it to a concrete value."""

    type_name = "redun.expression.Expression"

    def __init__(self) -> None:
        self._hash: str | None = None
        self._upstreams: list[Any] = []
        self._length: int | None = None

    def get_hash(self, data: bytes | None = None) -> str:
        expr_hash = self._hash
        if expr_hash is None:
            # Hash nested expressions first, so that no _calc_hash recurses.
            for expr, _ in _children_first(self, _is_hashed):
                expr_hash = expr._hash = expr._calc_hash()
        return expr_hash

    def _calc_hash(self) -> str:
        raise TypeError(f"{type(self).__name__} is abstract and has no hash")

    def is_valid(self) -> bool:
        """A cached expression is reusable only while every task it calls is registered
        and every value in its arguments (a File, a Task, a Handle) is still valid."""
        registered = _task_lookup[0]
        types = get_type_registry()
        for expr, _ in _children_first(self, _never_done):
            if isinstance(expr, TaskExpression) and not registered(expr.task_name):
                return False
            if isinstance(expr, ValueExpression):
                leaves: Iterator[Any] = iter_nested_value(expr.value)
            elif isinstance(expr, ApplyExpression):
                leaves = iter_nested_value((expr.args, expr.kwargs))
            else:
                continue
            for leaf in leaves:
                if not isinstance(leaf, Expression) and not types.is_valid(leaf):
                    return False
        return True

    def _nested_expressions(self) -> Iterator[Expression]:
        """Expressions nested in the arguments: their hashes and states go into this one's."""
        return iter(())

    def __getstate__(self) -> dict:
        states = _pickling.states
        state = states.get(id(self))
        if state is not None:
            # Pickled as part of an enclosing expression: already serialized below.
            return state
        order = _children_first(self, lambda expr: id(expr) in states)
        # A state is kept only until every expression containing it is serialized.
        waiting: dict[int, int] = {}
        for _, nested in order:
            for expr in nested:
                waiting[id(expr)] = waiting.get(id(expr), 0) + 1
        try:
            for expr, nested in order:
                states[id(expr)] = expr._serialize_state()
                for child in nested:
                    waiting[id(child)] -= 1
                    if not waiting[id(child)]:
                        del states[id(child)]
            return states[id(self)]
        finally:
            # Ids are only unique while their objects live: leave none behind.
            for expr, _ in order:
                states.pop(id(expr), None)

    def _serialize_state(self) -> dict:
        """The pickled state; the nested expressions are already serialized by then."""
        return {}

    def __setstate__(self, state: dict) -> None:
        self._hash = None
        self._upstreams = []
        self._length = None
        # Unpickling an argument only queues the expressions found in it, and
        # the outermost expression being unpickled loads the queue.
        loading = _loading
        loading.queue.append((self, state))
        if loading.running:
            return
        loading.running = True
        try:
            while loading.queue:
                expr, expr_state = loading.queue.popleft()
                expr._load_state(expr_state)
        finally:
            loading.running = False
            loading.queue.clear()

    def _load_state(self, state: dict) -> None:
        """Restore the fields that `_serialize_state` recorded."""

    def __call__(self, *args: Any, **kwargs: Any) -> SimpleExpression:
        return SimpleExpression("call", (self, args, kwargs))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            if key.stop is None:
                raise TypeError("Slicing an expression needs an explicit stop index.")
            return [
                self._get_single_item(i) for i in range(key.start or 0, key.stop, key.step or 1)
            ]
        return self._get_single_item(key)

    def _get_single_item(self, key: Any) -> SimpleExpression:
        return SimpleExpression("getitem", (self, key), {})

    def __getattr__(self, key: str) -> SimpleExpression:
        if key.startswith("__"):
            # Protocol probes (pickle, copy, numpy) must see a missing
            # attribute, not a lazy expression.
            raise AttributeError(key)
        return SimpleExpression("getattr", (self, key), {})

    def __bool__(self) -> bool:
        raise TypeError("Expressions cannot be coerced to bool.")

    def __iter__(self) -> Iterator[Any]:
        if self._length:
            return (self[i] for i in range(self._length))
        raise TypeError("Expressions of unknown length cannot be iterated.")

    def __await__(self) -> Any:
        """Awaiting an expression inside an async task evaluates it eagerly."""
        from redun.runtime import get_current_job

        scheduler, parent_job = get_current_job()
        if parent_job is None:
            raise RuntimeError(
                "Can only await on an Expression in a task running in a local thread-mode Executor."
            )
        return scheduler.evaluate_async(self, parent_job).__await__()

    # Comparison operators are lazy, so the identity hash must be kept.
    __hash__ = object.__hash__


class ApplyExpression(Expression[Result]):
    """Applying a function or task to arguments."""

    type_name = "redun.expression.ApplyExpression"

    def __init__(self, args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.args = args
        self.kwargs = kwargs
        self._upstreams = [args, kwargs]

    def _nested_expressions(self) -> Iterator[Expression]:
        return (
            value
            for value in iter_nested_value((self.args, self.kwargs))
            if isinstance(value, Expression)
        )


def format_arguments(args: tuple, kwargs: dict) -> str:
    return ", ".join(
        chain(
            (repr(arg) for arg in args),
            (f"{key}={value!r}" for key, value in sorted(kwargs.items())),
        )
    )


class TaskExpression(ApplyExpression[Result]):
    """A call of a task, by name; the scheduler runs it as a Job."""

    type_name = "redun.expression.TaskExpression"

    def __init__(
        self,
        task_name: str,
        args: tuple,
        kwargs: dict,
        task_options: dict | None = None,
        export_options: set[str] | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(args, kwargs)
        self.task_name = task_name
        # Set once a job evaluated this expression: the dataflow link to its call node.
        self.call_hash: str | None = None
        # Most calls carry no options: they share one empty value instead of
        # holding two empty containers each (a million-task fan-out keeps them all).
        self._options = task_options or _NO_OPTIONS
        self._export_options = export_options or _NO_EXPORTS
        self._length = length

    def __repr__(self) -> str:
        return f"{self.task_name}({format_arguments(self.args, self.kwargs)})"

    def _calc_hash(self) -> str:
        args_hash = hash_arguments(get_type_registry(), self.args, self.kwargs)
        options_hash = hash_bytes(pickle_dumps(self._options))
        if not self._export_options:
            return hash_struct(["TaskExpression", self.task_name, args_hash, options_hash])
        return hash_struct(
            [
                "TaskExpression",
                self.task_name,
                args_hash,
                options_hash,
                hash_struct(sorted(self._export_options)),
            ]
        )

    def _serialize_state(self) -> dict:
        registry = get_type_registry()
        return {
            "task_name": self.task_name,
            "args": registry.serialize(self.args),
            "kwargs": registry.serialize(self.kwargs),
            # Fresh empties, as before they were shared: a pickle memoizes a repeated
            # object, which would change the bytes (and hashes) redun recorded.
            "task_options": self._options or {},
            "export_options": self._export_options or set(),
            "length": self._length,
        }

    def _load_state(self, state: dict) -> None:
        registry = get_type_registry()
        self.task_name = state["task_name"]
        self.args = registry.deserialize("builtins.tuple", state["args"])
        self.kwargs = registry.deserialize("builtins.dict", state["kwargs"])
        self._options = state.get("task_options") or _NO_OPTIONS
        self._export_options = state.get("export_options") or _NO_EXPORTS
        self._upstreams = [self.args, self.kwargs]
        self._length = state.get("length")
        self.call_hash = None


class SchedulerExpression(TaskExpression[Result]):
    """A call of a scheduler task: evaluated inside the scheduler with raw arguments."""

    type_name = "redun.expression.SchedulerExpression"

    def _calc_hash(self) -> str:
        args_hash = hash_arguments(get_type_registry(), self.args, self.kwargs)
        return hash_struct(["SchedulerExpression", self.task_name, args_hash])


class SimpleExpression(ApplyExpression[Result]):
    """A lazy operator (``+``, ``[]``, ``.attr``, call...) applied to expressions."""

    type_name = "redun.expression.SimpleExpression"

    def __init__(self, func_name: str, args: tuple = (), kwargs: dict | None = None) -> None:
        super().__init__(args, kwargs or {})
        self.func_name = func_name

    def __repr__(self) -> str:
        symbol = _operator_symbols.get(self.func_name)
        if symbol and len(self.args) == 2:
            left, right = self.args
            if self.func_name in _reverse_operators:
                left, right = right, left
            return f"({left!r} {symbol} {right!r})"
        if self.func_name == "getitem":
            return f"{self.args[0]!r}[{self.args[1]!r}]"
        if self.func_name == "getattr":
            return f"{self.args[0]!r}.{self.args[1]}"
        if self.func_name == "call":
            target, args, kwargs = self.args
            return f"{target!r}({format_arguments(args, kwargs)})"
        return f"SimpleExpression('{self.func_name}', {self.args!r}, {self.kwargs!r})"

    def _calc_hash(self) -> str:
        args_hash = hash_arguments(get_type_registry(), self.args, self.kwargs)
        return hash_struct(["SimpleExpression", self.func_name, args_hash])

    def _serialize_state(self) -> dict:
        registry = get_type_registry()
        return {
            "func_name": self.func_name,
            "args": registry.serialize(self.args),
            "kwargs": registry.serialize(self.kwargs),
        }

    def _load_state(self, state: dict) -> None:
        registry = get_type_registry()
        self.func_name = state["func_name"]
        self.args = registry.deserialize("builtins.tuple", state["args"])
        self.kwargs = registry.deserialize("builtins.dict", state["kwargs"])
        self._upstreams = [self.args, self.kwargs]


class ValueExpression(Expression[Result]):
    """A concrete value lifted into an expression (carries dataflow provenance)."""

    type_name = "redun.expression.ValueExpression"

    def __init__(self, value: Result) -> None:
        super().__init__()
        if isinstance(value, Expression):
            raise TypeError("ValueExpression needs a concrete value, not an expression.")
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)

    def _calc_hash(self) -> str:
        return hash_struct(["ValueExpression", get_type_registry().get_hash(self.value)])

    def _serialize_state(self) -> dict:
        registry = get_type_registry()
        return {
            "value_type": registry.get_type_name(type(self.value)),
            "value": registry.serialize(self.value),
        }

    def _load_state(self, state: dict) -> None:
        self.value = get_type_registry().deserialize(state["value_type"], state["value"])


def _is_hashed(expr: Expression) -> bool:
    return expr._hash is not None


def _never_done(expr: Expression) -> bool:
    return False


def _children_first(
    root: Expression, done: Callable[[Expression], bool]
) -> list[tuple[Expression, list[Expression]]]:
    """`root` and the expressions nested in it, each after the ones nested in it.

    Each comes once, with its distinct nested expressions; expressions for which
    `done` holds are left out, with everything nested in them. Depth-first with
    an explicit stack, so nesting depth costs no Python stack.
    """
    order: list[tuple[Expression, list[Expression]]] = []
    seen = {id(root)}
    stack: list[tuple[Expression, dict[int, Expression], Iterator[Expression]]] = [
        (root, {}, root._nested_expressions())
    ]
    while stack:
        expr, nested, candidates = stack[-1]
        for child in candidates:
            if id(child) in nested or done(child):
                continue
            nested[id(child)] = child
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, {}, child._nested_expressions()))
                break
        else:
            stack.pop()
            order.append((expr, list(nested.values())))
    return order


class _PicklingStates(threading.local):
    """States of the nested expressions of the expressions this thread is pickling."""

    def __init__(self) -> None:
        self.states: dict[int, dict] = {}


class _LoadingQueue(threading.local):
    """Unpickled expressions whose fields this thread has yet to load."""

    def __init__(self) -> None:
        self.queue: deque[tuple[Expression, dict]] = deque()
        self.running = False


_pickling = _PicklingStates()
_loading = _LoadingQueue()


class QuotedExpression(Generic[Result]):
    """An expression the scheduler does not descend into until ``.eval()``."""

    def __init__(self, expr: Result) -> None:
        self._expr = expr

    def __repr__(self) -> str:
        return f"QuotedExpression({self._expr!r})"

    def eval(self) -> Result:
        return self._expr


def quote(expr: Result) -> QuotedExpression[Result]:
    """Protect `expr` from evaluation (scheduler tasks unwrap it when they choose)."""
    return QuotedExpression(expr)


_lazy_operations: dict[str, Callable[..., Any]] = {}
_operator_symbols: dict[str, str] = {}
_reverse_operators: set[str] = set()


def get_lazy_operation(name: str) -> Callable[..., Any] | None:
    return _lazy_operations.get(name)


def lazy_operation(
    method: str | None = None,
    name: str | None = None,
    symbol: str | None = None,
    reverse: bool = False,
) -> Callable[[Callable], Callable]:
    """Register `func` as the lazy meaning of ``Expression.<method>`` under `name`."""

    def deco(func: Callable) -> Callable:
        op_name = name or func.__name__
        method_name = method or func.__name__

        def build(self: Expression, *args: Any, **kwargs: Any) -> SimpleExpression:
            return SimpleExpression(op_name, (self, *args), kwargs)

        build.__name__ = method_name
        setattr(Expression, method_name, build)
        _lazy_operations[op_name] = func
        if symbol:
            _operator_symbols[op_name] = symbol
        if reverse:
            _reverse_operators.add(op_name)
        return func

    return deco


def _register_operators() -> None:
    for method, func, symbol in [
        ("__eq__", operator.eq, "=="),
        ("__ne__", operator.ne, "!="),
        ("__lt__", operator.lt, "<"),
        ("__le__", operator.le, "<="),
        ("__gt__", operator.gt, ">"),
        ("__ge__", operator.ge, ">="),
        ("__add__", operator.add, "+"),
        ("__sub__", operator.sub, "-"),
        ("__mul__", operator.mul, "*"),
    ]:
        lazy_operation(method=method, symbol=symbol)(func)
    lazy_operation(method="__truediv__", name="div", symbol="/")(operator.truediv)
    lazy_operation(method="__radd__", name="radd", symbol="+", reverse=True)(
        lambda self, other: other + self
    )
    lazy_operation(method="__rsub__", name="rsub", symbol="-", reverse=True)(
        lambda self, other: other - self
    )
    lazy_operation(method="__rmul__", name="rmul", symbol="*", reverse=True)(
        lambda self, other: other * self
    )
    lazy_operation(method="__rtruediv__", name="rdiv", symbol="/", reverse=True)(
        lambda self, other: other / self
    )
    lazy_operation(method="__and__", name="and", symbol="&")(lambda self, other: self and other)
    lazy_operation(method="__rand__", name="rand", symbol="&", reverse=True)(
        lambda self, other: other and self
    )
    lazy_operation(method="__or__", name="or", symbol="|")(lambda self, other: self or other)
    lazy_operation(method="__ror__", name="ror", symbol="|", reverse=True)(
        lambda self, other: other or self
    )
    _lazy_operations["getitem"] = operator.getitem
    _lazy_operations["getattr"] = getattr
    _lazy_operations["call"] = lambda target, args=(), kwargs={}: target(*args, **kwargs)


_register_operators()
