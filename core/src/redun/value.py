"""The value system: how redun hashes, serializes and validates task arguments and results.

Any Python object can be a value. Classes that need their own hashing,
serialization or validity (Files, Handles) subclass `Value`; raw Python types
get that behaviour through a registered `ProxyValue`. The scheduler hashes
every argument and result here, so lookups are memoized per Python class.
"""

from __future__ import annotations

import builtins
import datetime
import importlib
import os
import weakref
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any, cast

from redun.hashing import hash_bytes, hash_struct, hash_tag_bytes
from redun.utils import get_func_source, iter_nested_value, pickle_dumps, pickle_loads

MIME_TYPE_PICKLE = "application/python-pickle"

NoneType: type = type(None)
function_type: type = type(lambda: None)


class TypeError(Exception):
    """A recorded type name that names no importable type.

    Shadows the builtin on purpose: ``redun.value.TypeError`` is redun's public name.
    """


class InvalidValueError(Exception):
    """A value that can no longer be used (its backing data is gone); a cache miss."""


def get_raw_type_name(raw_type: Any) -> str:
    return f"{raw_type.__module__}.{raw_type.__name__}"


def _default_hash(raw_value: Any) -> str:
    return hash_tag_bytes("Value", pickle_dumps(raw_value))


# How the registry handles instances of a Python class.
_PLAIN = 0  # no Value behaviour: pickle-based hash, identity pre/postprocess
_PROXIED = 1  # wrapped in a registered ProxyValue subclass
_OWN = 2  # a Value subclass handling itself


class TypeRegistry:
    """Maps Python types to Value classes and dispatches value methods to them."""

    def __init__(self) -> None:
        self._type_name2value_type: dict[str, type[Value]] = {}
        self._raw2proxy_type: dict[Any, type[ProxyValue]] = {}
        # Per Python class: how its instances are handled, and their hash
        # function. Cleared whenever a class registers.
        self._dispatch_cache: dict[type, tuple[int, type[Value]]] = {}
        self._hasher_cache: dict[type, Callable[[Any], str]] = {}
        self._type_name_cache: dict[type, str] = {}
        self._raw_type_cache: dict[str, type] = {}  # recorded type name -> non-Value class

    # -- registration ------------------------------------------------------------

    def register(self, value_type: type[Value]) -> None:
        """Register a Value class under its type name (and as proxy for its `type`)."""
        if getattr(value_type, "__args__", None):
            # A parameterized generic alias, not a class of its own.
            return
        raw_type = getattr(value_type, "type", None)
        if getattr(value_type, "proxy", False) and raw_type is not None:
            self._raw2proxy_type[raw_type] = cast(type[ProxyValue], value_type)
        self._type_name2value_type[cast(str, value_type.type_name)] = value_type
        self._dispatch_cache.clear()
        self._hasher_cache.clear()
        self._type_name_cache.clear()
        self._raw_type_cache.clear()

    # -- type lookup ----------------------------------------------------------------

    def _get_proxy_type(self, raw_type: type) -> type[ProxyValue] | None:
        if not isinstance(raw_type, type):
            # A typing construct such as list[int]: no proxy applies.
            return None
        for super_type in raw_type.__class__.mro(raw_type):
            proxy_type = self._raw2proxy_type.get(super_type)
            if proxy_type is not None:
                return proxy_type
        return None

    def _dispatch(self, raw_type: type) -> tuple[int, type[Value]]:
        """How instances of `raw_type` are handled (memoized: this is the hot path)."""
        dispatch = self._dispatch_cache.get(raw_type)
        if dispatch is None:
            proxy_type = self._get_proxy_type(raw_type)
            if proxy_type is not None:
                dispatch = (_PROXIED, proxy_type)
            elif issubclass(raw_type, Value):
                dispatch = (_OWN, raw_type)
            else:
                dispatch = (_PLAIN, ProxyValue)
            self._dispatch_cache[raw_type] = dispatch
        return dispatch

    def get_type(self, raw_type: type, use_default: bool = True) -> type[Value] | None:
        """The registered Value class for a Python type (ProxyValue if none and `use_default`)."""
        proxy_type = self._get_proxy_type(raw_type)
        if proxy_type is not None:
            return proxy_type
        if isinstance(raw_type, type) and issubclass(raw_type, Value):
            return raw_type
        return ProxyValue if use_default else None

    def get_type_name(self, raw_type: type) -> str:
        """The type name recorded in the database for values of `raw_type`."""
        name = self._type_name_cache.get(raw_type)
        if name is None:
            value_type = self.get_type(raw_type, use_default=False)
            if value_type is not None:
                name = cast(str, value_type.type_name)
            else:
                name = get_raw_type_name(raw_type)
            self._type_name_cache[raw_type] = name
        return name

    def parse_type_name(self, type_name: str) -> type:
        """The Python type for a recorded type name.

        Plugins declare the modules defining their Value types
        (`redun_value_types`), so such values load without the plugin having
        been imported first; other names are imported as ``module.attr``.
        """
        if type_name == "builtins.NoneType":
            return NoneType
        value_type = self._type_name2value_type.get(type_name)
        if value_type is not None:
            return value_type
        raw_type = self._raw_type_cache.get(type_name)
        if raw_type is not None:
            return raw_type
        value_type = self._load_from_plugin(type_name)
        if value_type is not None:
            return value_type
        module_name, _, attr = type_name.rpartition(".")
        try:
            raw_type = getattr(importlib.import_module(module_name), attr)
        except (ValueError, ImportError, AttributeError):
            raise TypeError(
                f'Unable to import type "{type_name}": install the package that defines it'
            ) from None
        # Cached results are read back by type name for every job: resolve each name once.
        self._raw_type_cache[type_name] = raw_type
        return raw_type

    def _load_from_plugin(self, type_name: str) -> type[Value] | None:
        from redun.plugins.manager import get_plugin_manager

        spec = get_plugin_manager().value_type_specs().get(type_name)
        if spec is None:
            return None
        module_name = spec.target.partition(":")[0]
        try:
            importlib.import_module(module_name)
        except ImportError as error:
            raise TypeError(
                f'Unable to import type "{type_name}": its module {module_name} failed to '
                f"import ({error}); reinstall the plugin that provides it"
            ) from None
        return self._type_name2value_type.get(type_name)

    # -- dispatch ---------------------------------------------------------------------

    def get_value(self, raw_value: Any) -> Value:
        """A Value wrapping `raw_value` (the value itself if it already is one)."""
        kind, value_type = self._dispatch(type(raw_value))
        if kind == _OWN:
            return raw_value
        return value_type(raw_value)

    def _hasher_of(self, raw_type: type) -> Callable[[Any], str]:
        kind, value_type = self._dispatch(raw_type)
        if kind == _PLAIN or (kind == _PROXIED and value_type.get_hash is ProxyValue.get_hash):
            hasher: Callable[[Any], str] = _default_hash
        elif kind == _PROXIED:

            def hasher(raw_value: Any, _proxy: type[Value] = value_type) -> str:
                return _proxy(raw_value).get_hash()

        else:

            def hasher(raw_value: Any) -> str:
                return raw_value.get_hash()

        self._hasher_cache[raw_type] = hasher
        return hasher

    def get_hash(self, value: Any, data: bytes | None = None) -> str:
        """The hash identifying `value` in caches and provenance.

        `data`, the value's serialization when the caller has it, spares pickling
        a second time for values hashed by their pickle (large results).
        """
        raw_type = type(value)
        hasher = self._hasher_cache.get(raw_type)
        if hasher is None:
            hasher = self._hasher_of(raw_type)
        if data is not None and hasher is _default_hash:
            return hash_tag_bytes("Value", data)
        return hasher(value)

    def is_valid(self, value: Any) -> bool:
        """Whether a cached value may still be used (a File may have changed since)."""
        if self._dispatch(type(value))[0] == _PLAIN:
            return True
        return self.get_value(value).is_valid()

    def is_valid_nested(self, nested_value: Any) -> bool:
        is_valid = self.is_valid
        return all(is_valid(value) for value in iter_nested_value(nested_value))

    def get_serialization_format(self, value: Any) -> str:
        return self.get_value(value).get_serialization_format()

    def serialize(self, value: Any) -> bytes:
        if self._dispatch(type(value))[0] == _PLAIN:
            return pickle_dumps(value)
        return self.get_value(value).serialize()

    def deserialize(self, type_name: str, data: bytes) -> Any:
        """Load a recorded value; unknown type names fall back to plain unpickling."""
        try:
            raw_type: Any = self.parse_type_name(type_name)
        except TypeError:
            raw_type = value_type = ProxyValue
        else:
            value_type = self.get_type(raw_type) if isinstance(raw_type, type) else ProxyValue
        try:
            return value_type.deserialize(raw_type, data)
        except ModuleNotFoundError as error:
            raise InvalidValueError(f"Error parsing value of type {type_name}: {error}") from error

    def preprocess(self, raw_value: Any, preprocess_args: dict) -> Any:
        """The value a task receives for `raw_value` (Handles fork here)."""
        if self._dispatch(type(raw_value))[0] == _PLAIN:
            return raw_value
        return self.get_value(raw_value).preprocess(preprocess_args)

    def postprocess(self, raw_value: Any, postprocess_args: dict) -> Any:
        """The value recorded for a task's result `raw_value`."""
        if self._dispatch(type(raw_value))[0] == _PLAIN:
            return raw_value
        return self.get_value(raw_value).postprocess(postprocess_args)

    def parse_arg(self, raw_type: type, arg: str) -> Any:
        """Parse a command-line string into a value of `raw_type`."""
        value_type = self.get_type(raw_type, use_default=False)
        if value_type is not None:
            return value_type.parse_arg(raw_type, arg)
        return raw_type(arg)

    def iter_subvalues(self, raw_value: Any) -> Iterator[Value]:
        """Values nested inside `raw_value` (Files in a list, Files of a Dir)."""
        return self.get_value(raw_value).iter_subvalues()


_type_registry = TypeRegistry()


def get_type_registry() -> TypeRegistry:
    return _type_registry


class MetaValue(type):
    """Names and registers each Value class as it is defined."""

    def __init__(cls, name: str, bases: tuple, namespace: dict, **kwargs: Any) -> None:
        super().__init__(name, bases, namespace, **kwargs)
        if not namespace.get("type_name"):
            own_type = namespace.get("type")
            cls.type_name = get_raw_type_name(own_type if own_type else cls)
        if getattr(cls, "register", True):
            _type_registry.register(cast(type, cls))


class Value(metaclass=MetaValue):
    """Base class for values with their own hashing, serialization or validity.

    Subclasses may override `get_hash`, `serialize`/`deserialize`, `is_valid`
    (is a cached copy still usable?), `preprocess`/`postprocess` (around a
    task call), `parse_arg` (command line) and `iter_subvalues`. Set
    ``register = False`` on a class to keep it out of the type registry.
    """

    type_name: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def is_valid(self) -> bool:
        return True

    def get_hash(self, data: bytes | None = None) -> str:
        return hash_tag_bytes("Value", pickle_dumps(self) if data is None else data)

    def get_serialization_format(self) -> str:
        return MIME_TYPE_PICKLE

    def serialize(self) -> bytes:
        return pickle_dumps(self)

    @classmethod
    def deserialize(cls, raw_type: type, data: bytes) -> Any:
        return pickle_loads(data)

    def preprocess(self, preprocess_args: dict) -> Any:
        return self

    def postprocess(self, postprocess_args: dict) -> Any:
        return self

    @classmethod
    def parse_arg(cls, raw_type: type, arg: str) -> Any:
        return cls(arg)

    def iter_subvalues(self) -> Iterator[Value]:
        return iter(())


class ProxyValue(Value):
    """Value behaviour for instances of a raw Python type (`type`)."""

    proxy = True
    type: Any = None

    def __init__(self, instance: Any) -> None:
        self.instance = instance

    def get_hash(self, data: bytes | None = None) -> str:
        return hash_tag_bytes("Value", pickle_dumps(self.instance) if data is None else data)

    def serialize(self) -> bytes:
        return pickle_dumps(self.instance)

    def preprocess(self, preprocess_args: dict) -> Any:
        return self.instance

    def postprocess(self, postprocess_args: dict) -> Any:
        return self.instance

    def iter_subvalues(self) -> Iterator[Value]:
        if isinstance(self.instance, Value):
            return
        for subvalue in iter_nested_value(self.instance):
            if isinstance(subvalue, Value):
                yield subvalue
                yield from subvalue.iter_subvalues()


class Bool(ProxyValue):
    """bool with command-line parsing of "true"/"false"."""

    type = bool
    type_name = "builtins.bool"

    @classmethod
    def parse_arg(cls, raw_type: builtins.type, arg: str) -> Any:
        lowered = arg.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(f'Unknown bool "{arg}": use true or false')


class Set(ProxyValue):
    """set, hashed in sorted order so that equal sets hash equally."""

    type = set
    type_name = "builtins.set"

    def get_hash(self, data: bytes | None = None) -> str:
        try:
            items = sorted(self.instance)
        except builtins.TypeError:
            # Unorderable members (where redun fails): order by member hash.
            items = sorted(self.instance, key=_type_registry.get_hash)
        # A distinct tag keeps a set from hashing like the sorted list.
        return hash_tag_bytes("Value.set", pickle_dumps(items))


class EnumType(ProxyValue):
    """Enum members, parsed on the command line by member name."""

    type = Enum
    type_name = "enum.Enum"

    @classmethod
    def parse_arg(cls, raw_type: builtins.type, arg: str) -> Any:
        enum_type = cast(builtins.type[Enum], raw_type)
        name = arg
        if "." in arg:
            prefix, name = arg.split(".", 1)
            if prefix != enum_type.__name__:
                name = ""
        member = enum_type.__members__.get(name)
        if member is None:
            choices = ", ".join(enum_type.__members__)
            raise ValueError(f"{arg} is not a valid {enum_type.__name__} (choose from {choices})")
        return member


_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%Y%m%d",
    "%Y%m%dT%H%M%S",
)


class DatetimeType(ProxyValue):
    """datetime, parsed on the command line from ISO 8601 and common date forms."""

    type = datetime.datetime
    type_name = "datetime.datetime"

    @classmethod
    def parse_arg(cls, raw_type: builtins.type, arg: str) -> datetime.datetime:
        text = arg.strip()
        try:
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        for pattern in _DATETIME_FORMATS:
            try:
                return datetime.datetime.strptime(text, pattern)
            except ValueError:
                continue
        raise ValueError(f"Cannot parse datetime '{arg}': use ISO 8601, e.g. 2024-01-31T12:00:00")


def make_unknown_function(func_name: str) -> Callable:
    """A stand-in for a recorded function that can no longer be imported."""

    def unknown_function(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"Function '{func_name}' cannot be found.")

    unknown_function.unknown_function = True  # type: ignore[attr-defined]
    return unknown_function


def is_unknown_function(func: Callable) -> bool:
    return getattr(func, "unknown_function", False)


# Hashing a function reads its source; do it once per function object.
_function_hashes: weakref.WeakKeyDictionary[Callable, tuple[Any, str]] = weakref.WeakKeyDictionary()


class Function(ProxyValue):
    """Plain functions as values: hashed by name and source, pickled by reference."""

    type = function_type
    type_name = "builtins.function"

    def __init__(self, instance: Callable) -> None:
        super().__init__(instance)
        self.module: str = instance.__module__
        self.name: str = instance.__name__
        if not is_unknown_function(instance) and "<locals>" in instance.__qualname__:
            raise InvalidValueError(
                f"function {instance.__qualname__} is defined inside another function; functions "
                "used as redun arguments or results must be defined at module level."
            )
        # Cached per code object: replacing __code__ (autoreload, patching) re-hashes.
        code = getattr(instance, "__code__", None)
        cached = _function_hashes.get(instance)
        if cached is not None and cached[0] is code:
            self._hash = cached[1]
        else:
            self._hash = self._calc_hash()
            _function_hashes[instance] = (code, self._hash)

    def __repr__(self) -> str:
        return f"<function {self.fullname}>"

    @property
    def fullname(self) -> str:
        return f"{self.module}.{self.name}"

    def _calc_hash(self) -> str:
        return hash_struct(
            [
                "Value.function",
                self.fullname.encode("utf8"),
                "source",
                get_func_source(self.instance),
            ]
        )

    def __getstate__(self) -> dict:
        return {"hash": self._hash, "module": self.module, "name": self.name}

    def __setstate__(self, state: dict) -> None:
        self._hash = state["hash"]
        self.module = state["module"]
        self.name = state["name"]
        try:
            self.instance = getattr(importlib.import_module(self.module), self.name)
        except (ImportError, AttributeError):
            self.instance = make_unknown_function(self.fullname)

    def get_hash(self, data: bytes | None = None) -> str:
        return cast(str, self._hash)

    def is_valid(self) -> bool:
        """Usable from the cache only if the function can still be imported."""
        return not is_unknown_function(self.instance)

    def serialize(self) -> bytes:
        return pickle_dumps(self)

    @classmethod
    def deserialize(cls, raw_type: Any, data: bytes) -> Any:
        return pickle_loads(data).instance

    @classmethod
    def parse_arg(cls, raw_type: builtins.type, arg: str) -> Any:
        """Parse ``module.func`` from the command line."""
        module_name, _, func_name = arg.rpartition(".")
        if not module_name:
            raise ValueError(f"Unexpected format for function name: {arg} (use module.function)")
        try:
            return getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError):
            raise ValueError(f"Function not found: {arg}") from None


class FileCache(ProxyValue):
    """Store values of a type in files under `base_path` instead of the database.

    Subclass with ``type = MyType`` and ``base_path = "s3://bucket/cache"``;
    the database then records only the file name. A deleted file makes the
    cached value invalid, which is a cache miss.
    """

    base_path = "."

    def _serialize(self) -> bytes:
        return pickle_dumps(self.instance)

    @classmethod
    def _deserialize(cls, data: bytes) -> Any:
        return pickle_loads(data)

    def serialize(self) -> bytes:
        from redun.file import File

        data = self._serialize()
        filename = os.path.join(self.base_path, hash_bytes(data))
        File(filename).write(data, mode="wb")
        return filename.encode("utf8")

    @classmethod
    def deserialize(cls, raw_type: type, data: bytes) -> Any:
        from redun.file import File

        file = File(data.decode("utf8"))
        if not file.exists():
            raise InvalidValueError(f"Cached value file {file.path} no longer exists")
        return cls._deserialize(cast(bytes, file.read("rb")))
