"""Small real tasks and records for state-store tests."""

from __future__ import annotations

from redun.backends.base import ArgumentRecord
from redun.backends.db import RedunBackendDb
from redun.task import Task


def make_task(name: str, source: str = "", namespace: str = "") -> Task:
    def func(x: int) -> int:
        return x

    return Task(func, name=name, namespace=namespace, source=source or f"def {name}(x): ...")


def record_call(
    backend: RedunBackendDb,
    task: Task,
    args: list,
    result: object,
    children: tuple[str, ...] = (),
    subtree: tuple[str, ...] = (),
    upstream: dict[int, tuple[str, ...]] | None = None,
) -> tuple[str, str]:
    """Record a call of `task` on positional `args`; return (call_hash, args_hash)."""
    from redun.hashing import hash_struct

    arg_hashes = [backend.record_value(arg) for arg in args]
    args_hash = hash_struct(["TaskArguments", arg_hashes, {}])
    result_hash = backend.record_value(result)
    backend.record_value(task, task.hash)
    arguments = [
        ArgumentRecord(i, None, h, (upstream or {}).get(i, ())) for i, h in enumerate(arg_hashes)
    ]
    call_hash = backend.record_call_node(
        task.fullname, task.hash, args_hash, arguments, result_hash, list(children), subtree
    )
    return call_hash, args_hash
