"""Small helpers shared by the engine, the state store and the CLI.

Pickling lives here because its bytes feed value hashes: everything goes
through protocol 3, and cloudpickle is only a fallback for values plain pickle
refuses, so hashes of ordinary values never depend on cloudpickle.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import itertools
import json
import os
import pickle
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo
from typing import IO, Any, Generic, NoReturn, TypeVar

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

PICKLE_PROTOCOL = 3

_NOT_GIVEN = object()
_local = threading.local()
_import_paths: list[str] = []
_DEF_LINE = re.compile(r"^ *def ")


def assert_never(value: NoReturn) -> NoReturn:
    """Fail loudly when an exhaustive match meets a case it does not know."""
    raise AssertionError(f"Unhandled value: {value!r}")


def str2bool(text: str) -> bool:
    """Parse "true"/"false" (any case); anything else is an error."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(f"Cannot parse bool: '{text}' (use true or false)")


# -- import paths (forwarded to remote workers) -------------------------------


def add_import_path(path: str) -> None:
    """Put `path` first on sys.path and remember it for remote `redun oneshot` jobs."""
    _import_paths.insert(0, path)
    sys.path.insert(0, "" if path == "." else path)


def get_import_paths() -> list[str]:
    return _import_paths


def clear_import_paths() -> None:
    _import_paths.clear()


# -- text formatting ---------------------------------------------------------


def json_dumps(value: Any) -> str:
    """JSON with sorted keys and no spaces: a stable form for hashing tag values."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


_id_lock = threading.Lock()
_id_pool: list[bytes] = []


def new_uuid4() -> str:
    """A random (version 4) UUID string, from pooled entropy.

    One `os.urandom` call serves 256 ids: a job id per task is on the
    scheduler's hot path, and a system call per id cost more than the rest
    of making one.
    """
    with _id_lock:
        if not _id_pool:
            pool = os.urandom(4096)
            _id_pool.extend(pool[i : i + 16] for i in range(0, 4096, 16))
        raw = _id_pool.pop()
    h = raw.hex()
    variant = "89ab"[raw[8] & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def trim_string(text: str, max_length: int = 200, ellipsis: str = "...") -> str:
    if max_length < len(ellipsis):
        raise ValueError(f"max_length {max_length} is shorter than the ellipsis {ellipsis!r}")
    if len(text) > max_length:
        return text[: max_length - len(ellipsis)] + ellipsis
    return text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def format_timestamp(timestamp: datetime, tz: tzinfo | None = None) -> str:
    """A timestamp in local time (or `tz`), to the second."""
    return timestamp.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def format_timedelta(duration: timedelta) -> str:
    """``H:MM:SS.cc``; like redun, whole days are not shown."""
    hours, remainder = divmod(duration.seconds, 3600)
    minutes, seconds = divmod(remainder, 60)
    centiseconds = duration.microseconds // 10000
    return f"{hours}:{minutes:02}:{seconds:02}.{centiseconds:02}"


def format_table(table: list[list], justs: str, min_width: int = 0) -> Iterator[str]:
    """Lines of a table with columns justified ("l" or "r"); a blank line follows the header."""
    if len(justs) != len(table[0]):
        raise ValueError(f"{len(justs)} justifications given for {len(table[0])} columns")
    rows = [[str(cell) for cell in row] for row in table]
    widths = [max(min_width, *(len(row[col]) for row in rows)) for col in range(len(rows[0]))]
    for index, row in enumerate(rows):
        if index == 1:
            yield ""
        cells = []
        for cell, just, width in zip(row, justs, widths):
            if just == "l":
                cells.append(cell.ljust(width))
            elif just == "r":
                cells.append(cell.rjust(width))
            else:
                raise ValueError(f"Unknown justification {just!r} (use 'l' or 'r')")
        yield " ".join(cells)


# -- source code ---------------------------------------------------------------


def get_func_source(func: Callable) -> str:
    """Source of `func` without the decorator lines above its ``def``.

    Part of every task hash, so the rule is redun's exactly: everything from
    the first line that starts with optional spaces and ``def ``.
    """
    source = inspect.getsource(func)
    lines = source.split("\n")
    for index, line in enumerate(lines):
        if _DEF_LINE.match(line):
            return "\n".join(lines[index:])
    return source


# -- merging -------------------------------------------------------------------


def merge_dicts(dicts: list[T]) -> T:
    """Deep-merge dicts; for a key whose values are not all dicts, the last wins."""
    if len(dicts) == 1:
        return dicts[0]
    if not all(isinstance(dct, dict) for dct in dicts):
        return dicts[-1]
    grouped: dict[Any, list[Any]] = {}
    for dct in dicts:
        for key, value in dct.items():  # type: ignore[attr-defined]
            grouped.setdefault(key, []).append(value)
    return {key: merge_dicts(values) for key, values in grouped.items()}  # type: ignore[return-value]


# -- nested values ---------------------------------------------------------------


# Types that can never contain nested values: skipped without further checks.
_LEAF_TYPES = frozenset({int, str, float, bytes, bool, type(None), complex})


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _nested_children(value: Any, kind: type) -> list[Any] | None:
    """The direct children of a container redun traverses, or None for a leaf.

    Every tuple subclass is a container (namedtuples and tuple-like records
    alike), as the scheduler's own scan (`redun.scheduler.nested`) treats them.
    """
    if kind is list or kind is tuple or kind is set:
        return list(value)
    if kind is dict:
        return [*value.keys(), *value.values()]
    if isinstance(value, tuple):
        return list(value)
    if dataclasses.is_dataclass(kind):
        return [getattr(value, field.name) for field in dataclasses.fields(value)]
    return None


def iter_nested_value(value: Any) -> Iterator[Any]:
    """Leaves of a value nested in lists, tuples (subclasses too), sets, dicts and dataclasses.

    Dicts yield their keys, then their values. Iterative, so deep nesting
    cannot exhaust the recursion limit.
    """
    kind = type(value)
    if kind in _LEAF_TYPES:
        yield value
        return
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind in _LEAF_TYPES:
            yield item
            continue
        children = _nested_children(item, kind)
        if children is None:
            yield item
        else:
            children.reverse()
            extend(children)


def map_nested_value(func: Callable[[Any], Any], value: Any) -> Any:
    """Apply `func` to every leaf, rebuilding the containers around the results."""
    kind = type(value)
    if kind in _LEAF_TYPES:
        return func(value)
    if kind is list:
        return [map_nested_value(func, item) for item in value]
    if kind is dict:
        return {
            map_nested_value(func, key): map_nested_value(func, item) for key, item in value.items()
        }
    if kind is tuple:
        return tuple([map_nested_value(func, item) for item in value])
    if isinstance(value, tuple):
        return _rebuild_tuple(value, [map_nested_value(func, item) for item in value])
    if kind is set:
        return {map_nested_value(func, item) for item in value}
    if dataclasses.is_dataclass(kind):
        return _map_dataclass(func, value)
    return func(value)


def _rebuild_tuple(value: tuple, items: list[Any]) -> tuple:
    """A tuple subclass instance like `value` holding `items` (and its attributes)."""
    kind = type(value)
    if _is_namedtuple(value):
        return kind(*items)
    try:
        rebuilt = tuple.__new__(kind, items)
    except TypeError:  # C tuple types (os.stat_result, time.struct_time) take one sequence
        return kind(items)
    if getattr(value, "__dict__", None):
        rebuilt.__dict__.update(value.__dict__)
    return rebuilt


def _map_dataclass(func: Callable[[Any], Any], value: Any) -> Any:
    fields = dataclasses.fields(value)
    mapped = type(value)(
        **{
            field.name: map_nested_value(func, getattr(value, field.name))
            for field in fields
            if field.init
        }
    )
    # object.__setattr__ also works on frozen dataclasses.
    for field in fields:
        if not field.init:
            item = map_nested_value(func, getattr(value, field.name))
            object.__setattr__(mapped, field.name, item)
    # Keep extra attributes such as __orig_class__ of subscripted generics.
    source_dict = getattr(value, "__dict__", None)
    target_dict = getattr(mapped, "__dict__", None)
    if source_dict is not None and target_dict is not None:
        for key in source_dict.keys() - target_dict.keys():
            target_dict[key] = source_dict[key]
    return mapped


# -- pickling --------------------------------------------------------------------

_PICKLE_REFUSALS = (pickle.PicklingError, AttributeError, TypeError)


def pickle_dumps(obj: Any) -> bytes:
    """Pickle with protocol 3; cloudpickle only what plain pickle refuses.

    Plain pickle goes first so that the bytes (and so the hashes) of ordinary
    values are those redun has always produced; lambdas, closures and locally
    defined classes then still serialize, by value.
    """
    try:
        return pickle.dumps(obj, protocol=PICKLE_PROTOCOL)
    except _PICKLE_REFUSALS as error:
        import cloudpickle

        try:
            return cloudpickle.dumps(obj, protocol=PICKLE_PROTOCOL)
        except Exception as cloud_error:
            raise pickle.PicklingError(
                f"Cannot serialize {type(obj).__name__} value: {error} "
                f"(cloudpickle: {cloud_error}); make the value picklable"
            ) from error


def pickle_dump(obj: Any, file: IO[bytes]) -> None:
    file.write(pickle_dumps(obj))


def pickle_loads(data: bytes) -> Any:
    """Unpickle; inside `with_pickle_preview()`, unknown classes load as previews."""
    if getattr(_local, "preview_depth", 0) > 0:
        return pickle_preview(data, raise_error=_local.preview_raise_error)
    return pickle.loads(data)


@contextmanager
def with_pickle_preview(raise_error: bool = False) -> Iterator[None]:
    """Within this context, values whose classes cannot be imported still load, as previews.

    Lets `redun log` and the console show values recorded by code that is not
    installed here.
    """
    depth = getattr(_local, "preview_depth", 0)
    previous = getattr(_local, "preview_raise_error", False)
    _local.preview_depth = depth + 1
    _local.preview_raise_error = raise_error
    try:
        yield
    finally:
        _local.preview_depth = depth
        _local.preview_raise_error = previous


class PreviewClass:
    """Stand-in for an instance of a class that cannot be imported; shows its state."""

    _module = "module"
    _name = "name"

    def __new__(cls, *args: Any, **kwargs: Any) -> PreviewClass:
        self = super().__new__(cls)
        self.__dict__["_preview_args"] = args
        self.__dict__.update(kwargs)
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_preview_args"] = args
        self.__dict__.update(kwargs)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_preview_state"] = state

    def __repr__(self) -> str:
        parts = [repr(arg) for arg in self.__dict__.get("_preview_args", ())]
        parts.extend(
            f"{key}={value!r}" for key, value in self.__dict__.items() if key != "_preview_args"
        )
        return f"{self._name}({', '.join(parts)})"

    __str__ = __repr__

    def __getitem__(self, index: int) -> Any:
        return self.__dict__["_preview_args"][index]

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{name} is not an attribute of the preview of {self._name}")


class PreviewUnpicklable:
    """What a preview shows for data that cannot be unpickled at all."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"Unpicklable('{self.error}')"


class PreviewingUnpickler(pickle.Unpickler):
    """An unpickler that substitutes a PreviewClass subclass for each unknown class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stand_ins: dict[str, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except (AttributeError, ModuleNotFoundError):
            fullname = f"{module}.{name}"
            stand_in = self._stand_ins.get(fullname)
            if stand_in is None:
                stand_in = type(
                    name, (PreviewClass,), {"_module": module, "_name": name, "__module__": module}
                )
                self._stand_ins[fullname] = stand_in
            return stand_in


def pickle_preview(data: bytes, raise_error: bool = False) -> Any:
    """Unpickle, previewing unknown classes; unloadable data becomes PreviewUnpicklable."""
    try:
        with with_pickle_preview(raise_error):
            return PreviewingUnpickler(io.BytesIO(data)).load()
    except Exception as error:
        if raise_error:
            raise
        return PreviewUnpicklable(error)


# -- MultiMap --------------------------------------------------------------------


class MultiMap(Generic[K, V]):
    """A mapping in which a key may hold several values, in insertion order."""

    def __init__(self, items: Iterable[tuple[K, V] | list] = ()) -> None:
        self._data: dict[K, list[V]] = {}
        self._len = 0
        for key, value in items:
            self.add(key, value)

    def __repr__(self) -> str:
        return f"MultiMap({list(self.items())})"

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, key: K) -> list[V]:
        return self._data[key]

    def __iter__(self) -> Iterator[tuple[K, V]]:
        for key, values in self._data.items():
            for value in values:
                yield key, value

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiMap):
            return sorted(self) == sorted(other)
        if isinstance(other, dict):
            return sorted(self) == sorted((k, v) for k, vs in other.items() for v in vs)
        if isinstance(other, Iterable):
            return sorted(self) == sorted(other)
        return False

    __hash__ = None  # type: ignore[assignment]

    def add(self, key: K, value: V) -> None:
        self._data.setdefault(key, []).append(value)
        self._len += 1

    def has_item(self, key: K, value: V) -> bool:
        return value in self._data.get(key, ())

    def get(self, key: K, default: Any = _NOT_GIVEN) -> list[V]:
        return self._data.get(key, [] if default is _NOT_GIVEN else default)

    def keys(self) -> Iterator[K]:
        return iter(self._data)

    def values(self) -> Iterator[V]:
        return itertools.chain.from_iterable(self._data.values())

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(self)

    def as_dict(self) -> dict[K, list[V]]:
        return self._data
