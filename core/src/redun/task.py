"""Tasks: the unit of work, cached by the hash of its code and arguments.

A task's hash, pickled state and option handling are persistent identifiers:
they follow redun 0.44 exactly, so a redun database's cache keeps hitting.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, Generic, ParamSpec, TypeVar, overload

from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.compat import module_getattr
from redun.expression import SchedulerExpression, TaskExpression, set_task_lookup
from redun.hashing import hash_arguments, hash_eval, hash_struct
from redun.namespace import compute_namespace
from redun.utils import get_func_source, merge_dicts
from redun.value import Value, get_type_registry

# Option values are pickled into TaskExpression and Task hashes; redun defined
# these enums in redun.task, so their pickles must name that module.
for _enum in (CacheCheckValid, CacheScope, CacheResult):
    _enum.__module__ = __name__

# A task keeps its function's parameters (P) and return type (R) for type
# checkers: a call with a wrong argument type is a type error, as in redun.
P = ParamSpec("P")
R = TypeVar("R")

_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
_NAMESPACE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z_0-9.]*$")

__all__ = [
    "CacheCheckValid",
    "CacheResult",
    "CacheScope",
    "PartialTask",
    "SchedulerTask",
    "Task",
    "TaskRegistry",
    "get_task_registry",
    "hash_args_eval",
    "scheduler_task",
    "task",
    "wraps_task",
]


def get_tuple_type_length(tuple_type: Any) -> int | None:
    """Length of a ``tuple[...]`` or NamedTuple return annotation, if fixed."""
    if getattr(tuple_type, "__origin__", None) is tuple:
        if not hasattr(tuple_type, "__args__"):
            return None
        type_args = tuple_type.__args__
        if Ellipsis in type_args:
            return None
        if type_args == ((),):
            return 0
        return len(type_args)
    if inspect.isclass(tuple_type) and issubclass(tuple_type, tuple):
        fields = getattr(tuple_type, "_fields", None)
        if fields:
            return len(fields)
    return None


def undefined_task(fullname: str, *args: Any, **kwargs: Any) -> Any:
    """Stand-in body of a task unpickled in a process that does not define it."""
    raise ValueError(f"Task {fullname} is undefined.")


class Task(Value, Generic[P, R]):
    """A function whose calls are lazy, cached and recorded."""

    type_name = "redun.Task"
    # (base, override, merged): get_task_options' one dict, rebuilt if either is replaced.
    _merged_options: tuple[dict, dict, dict] | None = None
    _fullname: tuple[str | None, str, str] | None = None

    def __init__(
        self,
        func: Callable[P, R],
        name: str | None = None,
        namespace: str | None = None,
        version: str | None = None,
        compat: list[str] | None = None,
        script: bool = False,
        task_options_base: dict | None = None,
        task_options_override: dict | None = None,
        export_options: set[str] | None = None,
        hash_includes: list | None = None,
        source: str | None = None,
    ) -> None:
        self.name = name or func.__name__
        self.namespace = compute_namespace(func, namespace)
        self.func = func
        # Read lazily: versioned tasks never need their source.
        self._source = source
        self.version = version
        self.compat = compat or []
        self.script = script
        # Base options come from the decorator: never serialized, never hashed.
        self._task_options_base = dict(task_options_base or {})
        # Overrides come from .options(): serialized and hashed into this object.
        self._task_options_override = dict(task_options_override or {})
        self._export_options: set[str] = set(export_options or ())
        self._signature: inspect.Signature | None = None
        self._hash_includes = hash_includes
        self.hash = self._calc_hash()
        self._validate()

    # -- identity ------------------------------------------------------------

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = get_func_source(self.func)
        return self._source

    @source.setter
    def source(self, source: str) -> None:
        self._source = source

    @property
    def fullname(self) -> str:
        """Built once per (namespace, name): every call's expression keeps it for the run."""
        namespace, name = self.namespace, self.name
        cached = self._fullname
        if cached is None or cached[0] is not namespace or cached[1] is not name:
            fullname = f"{namespace}.{name}" if namespace else name
            cached = self._fullname = (namespace, name, fullname)
        return cached[2]

    def __repr__(self) -> str:
        return f"Task(fullname={self.fullname}, hash={self.hash[:8]})"

    def recompute_hash(self) -> None:
        self.hash = self._calc_hash()

    def _calc_hash(self) -> str:
        if self.compat:
            return self.compat[0]
        registry = get_type_registry()
        options_hash = (
            [registry.get_hash(self._task_options_override)] if self._task_options_override else []
        )
        includes_hash = (
            sorted(registry.get_hash(item) for item in self._hash_includes)
            if self._hash_includes
            else []
        )
        if self.version is None:
            head = ["Task", self.fullname, "source", self.source or get_func_source(self.func)]
        else:
            head = ["Task", self.fullname, "version", self.version]
        return hash_struct(head + includes_hash + options_hash)

    def get_hash(self, data: bytes | None = None) -> str:
        return self.hash

    def is_valid(self) -> bool:
        """A cached Task value is valid only while the registered code still hashes the same.

        A task unpickled where its code no longer exists is never valid, even when a
        `version` pins its hash; nor is one whose registered version moved on.
        """
        if getattr(self.func, "undefined_task", False):
            return False
        registered = get_task_registry().get(self.fullname)
        if registered is not None and registered is not self:
            if registered.version != self.version or registered.compat != self.compat:
                return False
        return self.hash == self._calc_hash()

    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    # -- options ---------------------------------------------------------------

    @property
    def nout(self) -> int | None:
        if self.has_task_option("nout"):
            return self.get_task_option("nout")
        annotations = getattr(self.func, "__annotations__", {})
        return get_tuple_type_length(annotations.get("return"))

    def get_task_option(self, option_name: str, default: Any = None) -> Any:
        if option_name in self._task_options_override:
            return self._task_options_override[option_name]
        return self._task_options_base.get(option_name, default)

    def get_task_options(self) -> dict:
        """The merged options, one dict shared by every call of this task (do not mutate it).

        Jobs keep their options after they finish, so a fresh copy per call
        cost a dict per task of a fan-out for the whole run.
        """
        base, override = self._task_options_base, self._task_options_override
        merged = self._merged_options
        if merged is None or merged[0] is not base or merged[1] is not override:
            merged = self._merged_options = (base, override, {**base, **override})
        return merged[2]

    def has_task_option(self, option_name: str) -> bool:
        return option_name in self._task_options_override or option_name in self._task_options_base

    def _validate(self) -> None:
        config_args = self.get_task_option("config_args")
        if config_args:
            params = list(self.signature.parameters)
            invalid = [arg for arg in config_args if arg not in params]
            if invalid:
                raise ValueError(
                    f"Invalid config args: {', '.join(invalid)}. Expected all config_args to be "
                    f"one of the function args/kwargs: {', '.join(params)}"
                )
        if self.namespace and not _NAMESPACE_PATTERN.match(self.namespace):
            raise ValueError(
                "Task namespace must use only alphanumeric characters, underscore '_', and "
                f"dot '.', and may not start with a dot: {self.namespace}"
            )
        if not _NAME_PATTERN.match(self.name):
            raise ValueError(
                f"Task name must use only alphanumeric characters and underscore '_': {self.name}"
            )
        nout = self.nout
        if nout is not None:
            if not isinstance(nout, int) or isinstance(nout, bool):
                raise TypeError("nout must be an int")
            if nout < 0:
                raise TypeError("nout must be non-negative")

        for options in (self._task_options_base, self._task_options_override):
            if "cache" in options:
                options["cache_scope"] = (
                    CacheScope.BACKEND if options.pop("cache") else CacheScope.CSE
                )
            if "cache_scope" in options:
                options["cache_scope"] = CacheScope(options["cache_scope"])
            if "check_valid" in options:
                options["check_valid"] = CacheCheckValid(options["check_valid"])

        if "prov" in self._task_options_base or "prov" in self._task_options_override:
            self._export_options.add("prov")

        if self.is_async():
            options = self.get_task_options()
            if "cache_scope" not in options or (
                options["cache_scope"] == CacheScope.BACKEND
                and options.get("check_valid") != CacheCheckValid.SHALLOW
            ):
                raise ValueError(
                    f"Async task '{self.fullname}' must set its cache option explicitly: use "
                    '@task(cache=True, check_valid="shallow") or @task(cache=False).'
                )

    def _derive(self, overrides: dict, export_options: set[str] | None = None) -> Task[P, R]:
        # Like redun, derived tasks keep neither hash_includes nor (unless
        # given) export options: both change the derived object's hash.
        return self.__class__(
            self.func,
            name=self.name,
            namespace=self.namespace,
            version=self.version,
            compat=self.compat,
            script=self.script,
            source=self._source,
            task_options_base=self._task_options_base,
            task_options_override=overrides,
            export_options=export_options,
        )

    def options(self, **task_options_update: Any) -> Task[P, R]:
        """A copy of this task with call-time option overrides (never affects caching)."""
        return self._derive({**self._task_options_override, **task_options_update})

    def export_options(self, **task_options_update: Any) -> Task[P, R]:
        """Like `options`, and the options are inherited by every descendant job."""
        keys = self._export_options | set(task_options_update)
        if "cache" in keys:
            keys.add("cache_scope")
        return self._derive({**self._task_options_override, **task_options_update}, keys)

    def update_context(self, context: dict | None = None, **kwargs: Any) -> Task[P, R]:
        """A copy of this task whose jobs see `context` merged into theirs."""
        previous = self._task_options_override.get("_context_override", {})
        return self.options(_context_override=merge_dicts([previous, context or {}, kwargs]))

    def partial(self, *args: Any, **kwargs: Any) -> PartialTask[..., R]:
        return PartialTask(self, args, kwargs)

    # -- calling -------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """A lazy call: the TaskExpression the scheduler evaluates.

        Typed as returning `R` (redun's white lie): results pass into other
        tasks with their natural types, and argument types are checked.
        """
        namespace, name = self.namespace, self.name
        return TaskExpression(  # type: ignore[return-value]
            # A new name string per call, not the cached one: pickle memoizes shared
            # objects, so sharing would change the bytes (and hashes) of nested expressions.
            f"{namespace}.{name}" if namespace else name,
            args,
            kwargs,
            task_options=self._task_options_override,
            export_options=self._export_options,
            length=self.nout,
        )

    @property
    def signature(self) -> inspect.Signature:
        if self._signature is None:
            if self.wrapped_task and not self.get_task_option("use_wrapper_signature", False):
                self._signature = inspect.signature(self.inner_task.func)
            else:
                self._signature = inspect.signature(self.func)
        return self._signature

    @property
    def load_module(self) -> str:
        return self.get_task_option("load_module") or self.func.__module__

    @property
    def wrapped_task(self) -> Task | None:
        inner_name = self.get_task_option("wrapped_task")
        return get_task_registry().get(inner_name) if inner_name else None

    @property
    def inner_task(self) -> Task:
        registry = get_task_registry()
        current: Task = self
        while True:
            inner_name = current.get_task_option("wrapped_task")
            inner = registry.get(inner_name) if inner_name else None
            if inner is None:
                return current
            current = inner

    # -- pickling (state names are redun's) -------------------------------------

    def __getstate__(self) -> dict:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "version": self.version,
            "hash": self.hash,
            "compat": self.compat,
            "script": self.script,
            "task_options": self._task_options_override,
            "export_options": self._export_options,
        }

    def __setstate__(self, state: dict) -> None:
        self.name = state["name"]
        self.namespace = state["namespace"]
        self.version = state["version"]
        self.hash = state["hash"]
        self.compat = state.get("compat", [])
        self.script = state.get("script", False)
        self._task_options_override = state.get("task_options", {})
        self._export_options = state.get("export_options", set())
        registered = get_task_registry().get(self.fullname)
        if registered is not None:
            self.func = registered.func
            self._task_options_base = registered._task_options_base
            self._source = registered._source
            self._hash_includes = registered._hash_includes
        else:
            fullname = self.fullname

            def missing(*args: Any, **kwargs: Any) -> Any:
                return undefined_task(fullname, *args, **kwargs)

            missing.undefined_task = True  # type: ignore[attr-defined]
            self.func = missing
            self._task_options_base = {}
            self._source = ""
            self._hash_includes = None
        self._signature = None
        self._validate()


class SchedulerTask(Task[P, R]):
    """A task evaluated inside the scheduler with unevaluated arguments (a fexpr)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return SchedulerExpression(  # type: ignore[return-value]
            self.fullname,
            args,
            kwargs,
            task_options=self._task_options_override,
            length=self.nout,
        )


class PartialTask(Task[P, R]):
    """A task with some arguments applied; calling it calls the original task."""

    type_name = "redun.PartialTask"

    def __init__(self, task: Task[..., R], args: tuple, kwargs: dict) -> None:
        self.task = task
        self.args = tuple(args)
        self.kwargs = kwargs
        super().__init__(task.func, name=task.name, namespace=task.namespace)

    def __repr__(self) -> str:
        return (
            f"PartialTask(fullname={self.fullname}, hash={self.hash[:8]}, "
            f"args={self.args!r}, kwargs={self.kwargs!r})"
        )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.task(*self.args, *args, **{**self.kwargs, **kwargs})

    def _calc_hash(self) -> str:
        return hash_struct(
            [
                "PartialTask",
                self.task._calc_hash(),
                hash_arguments(get_type_registry(), self.args, self.kwargs),
            ]
        )

    def is_valid(self) -> bool:
        return self.task.is_valid()

    def options(self, **task_options_update: Any) -> PartialTask[..., R]:
        return self.task.options(**task_options_update).partial(*self.args, **self.kwargs)

    def get_task_option(self, option_name: str, default: Any = None) -> Any:
        return self.task.get_task_option(option_name, default)

    def get_task_options(self) -> dict:
        return self.task.get_task_options()

    def has_task_option(self, option_name: str) -> bool:
        return self.task.has_task_option(option_name)

    def partial(self, *args: Any, **kwargs: Any) -> PartialTask[..., R]:
        return PartialTask(self.task, self.args + args, {**self.kwargs, **kwargs})

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.update({"task": self.task.__getstate__(), "args": self.args, "kwargs": self.kwargs})
        return state

    def __setstate__(self, state: dict) -> None:
        inner = Task.__new__(Task)
        inner.__setstate__(state["task"])
        self.task = inner
        self.args = state["args"]
        self.kwargs = state["kwargs"]
        super().__setstate__(state)


@overload
def task(func: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(
    *,
    name: str | None = None,
    namespace: str | None = None,
    version: str | None = None,
    compat: list[str] | None = None,
    script: bool = False,
    hash_includes: list | None = None,
    source: str | None = None,
    export_options: dict | None = None,
    **task_options_base: Any,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(
    func: Callable[P, R] | None = None,
    *,
    name: str | None = None,
    namespace: str | None = None,
    version: str | None = None,
    compat: list[str] | None = None,
    script: bool = False,
    hash_includes: list | None = None,
    source: str | None = None,
    export_options: dict | None = None,
    **task_options_base: Any,
) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Make `func` a Task and register it; usable bare (``@task``) or called."""

    def deco(func: Callable[P, R]) -> Task[P, R]:
        base = dict(task_options_base)
        export_keys = None
        if export_options:
            base.update(export_options)
            export_keys = set(export_options)
        new_task: Task[P, R] = Task(
            func,
            name=name,
            namespace=namespace,
            version=version,
            compat=compat,
            script=script,
            task_options_base=base,
            export_options=export_keys,
            hash_includes=hash_includes,
            source=source,
        )
        get_task_registry().add(new_task)
        return new_task

    return deco(func) if func is not None else deco


def scheduler_task(
    name: str | None = None,
    namespace: str | None = None,
    version: str = "1",
    **task_options_base: Any,
) -> Callable[[Callable[..., Any]], SchedulerTask[..., Any]]:
    """Register ``func(scheduler, parent_job, sexpr, *raw_args)`` (returning a Promise)."""

    def deco(func: Callable[..., Any]) -> SchedulerTask[..., Any]:
        new_task: SchedulerTask[..., Any] = SchedulerTask(
            func,
            name=name,
            namespace=namespace,
            version=version,
            task_options_base=task_options_base,
        )
        get_task_registry().add(new_task)
        return new_task

    return deco


def wraps_task(
    wrapper_name: str | None = None,
    wrapper_hash_includes: list | None = None,
    use_wrapper_signature: bool = False,
    **wrapper_task_options_base: Any,
) -> Callable[[Callable[[Task], Callable]], Callable[[Callable], Task]]:
    """Build a task decorator that wraps an inner task (moved to ``<ns>.<wrapper>``)."""
    includes = list(wrapper_hash_includes or [])

    def transform(wrapper_func: Callable[[Task], Callable]) -> Callable[[Callable], Task]:
        def create_tasks(inner_func: Callable) -> Task:
            inner = inner_func if isinstance(inner_func, Task) else task(inner_func)
            visible_name, visible_namespace = inner.name, inner.namespace
            suffix = wrapper_name or wrapper_func.__name__
            _hide(inner, suffix)
            return task(
                name=visible_name,
                namespace=visible_namespace,
                wrapped_task=inner.fullname,
                use_wrapper_signature=use_wrapper_signature,
                load_module=inner.load_module,
                hash_includes=includes + [inner],
                **wrapper_task_options_base,
            )(wrapper_func(inner))

        return create_tasks

    return transform


def _hide(inner: Task, suffix: str) -> str:
    """Move `inner` (and the tasks it wraps, innermost first) into namespace `<ns>.<suffix>`."""
    registry = get_task_registry()
    chain_tasks = [inner]
    while True:
        nested_name = chain_tasks[-1].get_task_option("wrapped_task")
        nested = registry.get(nested_name) if nested_name else None
        if nested is None:
            break
        chain_tasks.append(nested)
    new_name = ""
    for current in reversed(chain_tasks):
        if new_name:
            current._task_options_base["wrapped_task"] = new_name
        namespace = f"{current.namespace}.{suffix}" if current.namespace else suffix
        new_name = registry.rename(current.fullname, namespace, current.name).fullname
    return new_name


def _warn_if_redefined(old: Task, new: Task) -> None:
    """Two definitions of one task name further down the same file: only the last counts."""
    old_code = getattr(old.func, "__code__", None)
    new_code = getattr(new.func, "__code__", None)
    if old_code is None or new_code is None or old_code.co_filename != new_code.co_filename:
        return
    if old_code.co_firstlineno < new_code.co_firstlineno:
        import logging

        logging.getLogger("redun").warning(
            f"Task {new.fullname} is defined twice in {new_code.co_filename} (lines "
            f"{old_code.co_firstlineno} and {new_code.co_firstlineno}): the second replaces "
            "the first; rename one of them."
        )


class TaskRegistry:
    """The tasks defined in this process, by fullname (the "current code" for caching)."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        # Several names can share one hash (identical helper tasks), so count uses.
        self._hash_counts: defaultdict[str, int] = defaultdict(int)
        self._by_hash: dict[str, Task] = {}

    @property
    def task_hashes(self) -> set[str]:
        return set(self._hash_counts)

    def _forget(self, task: Task) -> None:
        count = self._hash_counts.get(task.hash, 0)
        if count <= 1:
            self._hash_counts.pop(task.hash, None)
            self._by_hash.pop(task.hash, None)
        else:
            self._hash_counts[task.hash] = count - 1
            if self._by_hash.get(task.hash) is task:
                self._by_hash[task.hash] = next(
                    t for t in self._tasks.values() if t.hash == task.hash and t is not task
                )

    def add(self, task: Task) -> None:
        old = self._tasks.pop(task.fullname, None)
        if old is not None:
            _warn_if_redefined(old, task)
            self._forget(old)
        self._tasks[task.fullname] = task
        self._hash_counts[task.hash] += 1
        self._by_hash.setdefault(task.hash, task)

    def get(self, task_name: str | None = None, hash: str | None = None) -> Task | None:
        if task_name:
            return self._tasks.get(task_name)
        if hash:
            return self._by_hash.get(hash)
        raise ValueError("No task field given.")

    def rename(self, old_name: str, new_namespace: str, new_name: str) -> Task:
        found = self._tasks.pop(old_name, None)
        if found is None:
            raise KeyError(f"No task named {old_name!r} to rename.")
        self._forget(found)
        found.namespace = new_namespace
        found.name = new_name
        self.add(found)
        return found

    def __iter__(self) -> Iterator[Task]:
        return iter(list(self._tasks.values()))


_task_registry = TaskRegistry()
set_task_lookup(lambda task_name: _task_registry.get(task_name) is not None)


def get_task_registry() -> TaskRegistry:
    return _task_registry


def hash_args_eval(type_registry: Any, task: Task, args: tuple, kwargs: dict) -> tuple[str, str]:
    """(eval_hash, args_hash) of a call, leaving out `config_args` and JobInfo arguments."""
    from redun.runtime import JobInfo

    config_args = task.get_task_option("config_args") or ()
    if not config_args and not any(isinstance(v, JobInfo) for v in (*args, *kwargs.values())):
        return hash_eval(type_registry, task.hash, args, kwargs)

    params = task.signature.parameters
    var_name = next(
        (p.name for p in params.values() if p.kind == inspect.Parameter.VAR_POSITIONAL), None
    )
    kept_args = [
        value
        for param_name, value in zip(params, args)
        if param_name not in config_args and not isinstance(value, JobInfo)
    ]
    if var_name not in config_args:
        kept_args.extend(args[len(params) :])
    kept_kwargs = {
        key: value
        for key, value in kwargs.items()
        if key not in config_args and not isinstance(value, JobInfo)
    }
    return hash_eval(type_registry, task.hash, kept_args, kept_kwargs)


# Names redun's module carried (redun.compat.REEXPORTS), imported on first access.
__getattr__ = module_getattr(__name__)
