"""Handles: values standing for external mutable state (a database, a service).

A Handle's hash is its construction data at first, then the hash of the call
that last returned it, so the scheduler can tell which state a cached result
was computed from (and roll back later states when an earlier one is reused).
"""

from __future__ import annotations

from typing import Any

from redun.hashing import hash_kwargs, hash_positional_args, hash_struct
from redun.namespace import compute_namespace
from redun.value import Value, get_type_registry


def get_handle_class(handle_class_name: str) -> type[Handle]:
    return get_type_registry().parse_type_name(handle_class_name)


def get_fullname(namespace: str | None, name: str) -> str:
    return f"{namespace}.{name}" if namespace else name


class Handle(Value):
    """Subclass with ``__init__(self, name, *args, namespace=None, **kwargs)``."""

    type_name = "redun.Handle"

    class HandleInfo:
        """What identifies a handle's state: its constructor data, key and last call."""

        def __init__(
            self,
            name: str,
            args: tuple,
            kwargs: dict,
            class_name: str,
            namespace: str | None = None,
            call_hash: str = "",
            hash: str | None = None,
            key: str = "",
        ) -> None:
            self.name = name
            self.namespace = namespace
            self.fullname = get_fullname(namespace, name)
            self.args = args
            self.kwargs = kwargs
            self.class_name = class_name
            self.call_hash = call_hash
            self.key = key
            self.hash = hash or self.get_hash()
            self.is_recorded = False
            self.fork_parent: Handle | None = None

        def get_state(self) -> dict:
            return {
                "name": self.name,
                "namespace": self.namespace,
                "args": self.args,
                "kwargs": self.kwargs,
                "class_name": self.class_name,
                "call_hash": self.call_hash,
                "key": self.key,
                "hash": self.hash,
            }

        def get_hash(self) -> str:
            if self.call_hash:
                return hash_struct(["Handle", self.fullname, "call_hash", self.key, self.call_hash])
            registry = get_type_registry()
            return hash_struct(
                [
                    "Handle",
                    self.fullname,
                    "init",
                    self.key,
                    hash_positional_args(registry, self.args),
                    hash_kwargs(registry, self.kwargs),
                ]
            )

        def update_hash(self) -> None:
            self.hash = self.get_hash()

        def apply_call(self, handle: Handle, call_hash: str) -> Handle:
            derived = self.clone(handle)
            info = derived.__handle__
            info.call_hash = call_hash
            info.key = ""
            info.update_hash()
            return derived

        def fork(self, handle: Handle, key: str) -> Handle:
            derived = self.clone(handle)
            info = derived.__handle__
            info.call_hash = handle.__handle__.hash
            info.key = key
            info.update_hash()
            info.fork_parent = handle
            return derived

        def clone(self, handle: Handle) -> Handle:
            klass = get_handle_class(self.class_name)
            derived = klass.__new__(
                klass, self.name, *self.args, namespace=self.namespace, **self.kwargs
            )
            for key, value in handle.__dict__.items():
                if key != "__handle__":
                    derived.__dict__[key] = value
            return derived

    def __new__(
        cls, name: str | None = None, *args: Any, namespace: str | None = None, **kwargs: Any
    ) -> Handle:
        handle = super().__new__(cls)
        if name is not None:
            # Captured here so a subclass's __init__ cannot forget it.
            handle.__handle__ = cls.HandleInfo(
                name=name,
                namespace=compute_namespace(cls, namespace),
                args=args,
                kwargs=kwargs,
                class_name=cls.type_name,
            )
        return handle

    def __repr__(self) -> str:
        info = self.__handle__
        return f"{info.class_name}(fullname={info.fullname}, hash={(info.hash or '')[:8]})"

    def __getattr__(self, attr: str) -> Any:
        if "instance" in self.__dict__:
            return getattr(self.instance, attr)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def __getstate__(self) -> dict:
        return self.__handle__.get_state()

    def __setstate__(self, state: dict) -> None:
        self.__handle__ = self.HandleInfo(**state)
        self.__handle__.is_recorded = True
        self.__init__(state["name"], *state["args"], **state["kwargs"])

    def apply_call(self, call_hash: str) -> Handle:
        """The state after passing through the call `call_hash`."""
        return self.__handle__.apply_call(self, call_hash)

    def fork(self, key: str) -> Handle:
        """A parallel branch of this state, distinguished by `key`."""
        return self.__handle__.fork(self, key)

    def is_valid(self) -> bool:
        from redun.runtime import get_current_scheduler

        if self.type_name != self.__handle__.class_name:
            return False
        scheduler = get_current_scheduler(required=False)
        if scheduler is None:
            return False
        return scheduler.backend.is_valid_handle(self)

    def get_hash(self, data: bytes | None = None) -> str:
        return self.__handle__.hash

    def preprocess(self, preprocess_args: dict) -> Handle:
        return self.fork(self.__handle__.key or str(preprocess_args["call_order"]))

    def postprocess(self, postprocess_args: dict) -> Handle:
        return self.apply_call(postprocess_args["pre_call_hash"])
