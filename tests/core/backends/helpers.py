"""Small real tasks and records for state-store tests."""

from __future__ import annotations

from collections.abc import Collection

from redun.backends.base import ArgumentRecord, CacheQuery
from redun.backends.db import RedunBackendDb
from redun.cache import CacheCheckValid, CacheResult, CacheScope
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


def cache_query(
    task_hash: str,
    args_hash: str,
    eval_hash: str,
    execution_id: str,
    task_hashes: set[str],
    scope: CacheScope,
    check_valid: CacheCheckValid,
    context_hash: str | None = None,
    allowed_cache_results: Collection[CacheResult] | None = None,
) -> CacheQuery:
    """A cache lookup in the order the tests have always spelled it."""
    return CacheQuery(
        "",
        task_hash,
        args_hash,
        eval_hash,
        execution_id,
        task_hashes,
        scope,
        check_valid,
        context_hash,
        allowed_cache_results,
    )
