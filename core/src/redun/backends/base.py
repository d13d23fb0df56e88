"""The contract between the scheduler and a state store.

The scheduler calls the ``record_*`` methods from its own thread, many times
per tick. Implementations may buffer those writes and must then write them in
one transaction when ``flush()`` is called (the scheduler calls it once per
tick and at the end of an execution). Every read method must see buffered
writes as if they had been flushed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from redun.cache import CacheCheckValid, CacheResult, CacheScope


class TagEntity(str, Enum):
    """Kinds of records a tag can be attached to (values as in redun's schema)."""

    Execution = "Execution"
    Job = "Job"
    CallNode = "CallNode"
    Task = "Task"
    Value = "Value"
    Null = "Null"


@dataclass(frozen=True)
class ArgumentRecord:
    """One argument of a call node: where it sat and which value it held.

    `upstream_call_hashes` are the call nodes whose results flowed into this
    argument (dataflow provenance, table ``argument_result``).
    """

    position: int | None
    key: str | None
    value_hash: str
    upstream_call_hashes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CacheHit:
    """Answer of ``check_cache``: the cached result, where it came from.

    `value_hash` is the stored result's hash when the backend knows it, so the
    scheduler need not serialize a cached result again to hash it.
    """

    result: Any
    call_hash: str | None
    kind: CacheResult
    value_hash: str | None = None


CACHE_MISS = CacheHit(None, None, CacheResult.MISS)


@dataclass(frozen=True)
class CacheMissReason:
    """Why a job's cache lookup missed, precise enough to show a user."""

    reason: str  # "new_task" | "new_args" | "new_call" | "invalid_result"
    previous_task_hash: str | None = None
    changed_arguments: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


class RedunBackend(ABC):
    """A call-graph state store (the database behind caching and provenance)."""

    # -- lifecycle ----------------------------------------------------------------

    @abstractmethod
    def load(self, migrate: bool | None = None) -> None:
        """Connect, migrate if allowed, and check the schema version."""

    @abstractmethod
    def flush(self) -> None:
        """Write every buffered record in one transaction."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release connections."""

    # -- values -----------------------------------------------------------------

    @abstractmethod
    def record_value(self, value: Any, value_hash: str | None = None) -> str:
        """Record `value` (and its subvalues, File/Task companion rows); return its hash.

        `value_hash`, when the caller already computed it, avoids hashing twice.
        Recording the same hash again is a no-op.
        """

    @abstractmethod
    def get_value(self, value_hash: str) -> tuple[Any, bool]:
        """Return ``(value, True)``, or ``(None, False)`` if unknown or undecodable."""

    # -- call graph and caching ---------------------------------------------------

    @abstractmethod
    def record_call_node(
        self,
        task_name: str,
        task_hash: str,
        args_hash: str,
        arguments: Sequence[ArgumentRecord],
        result_hash: str,
        child_call_hashes: Sequence[str],
        subtree_task_hashes: Iterable[str],
        unrecorded_child_call_hashes: Collection[str] = (),
    ) -> str:
        """Record a call node with its arguments, edges and subtree tasks; return call_hash.

        call_hash = hash_struct(["CallNode", task_hash, args_hash, result_hash,
        sorted(child_call_hashes)]). The task and result value must have been
        recorded first. Children in `unrecorded_child_call_hashes` (run without
        provenance) count in the hash but get no edge.
        """

    def is_call_node_recorded(self, call_hash: str) -> bool:
        """Whether the call node, with its arguments and edges, is stored already.

        Lets the scheduler skip re-recording the call nodes of cache hits. A
        backend that cannot tell cheaply answers False (recording is idempotent).
        """
        return False

    @abstractmethod
    def record_call_node_context(self, call_hash: str, context_hash: str) -> None:
        """Tag a call node with the hash of the context it ran under (`redun.context`)."""

    @abstractmethod
    def get_subtree_tasks(self, call_hash: str) -> set[str]:
        """Task hashes used anywhere below `call_hash`."""

    @abstractmethod
    def set_eval_cache(
        self, eval_hash: str, task_hash: str, args_hash: str, value: Any, value_hash: str
    ) -> None:
        """Remember the one-step reduction result of an evaluation (single reduction)."""

    @abstractmethod
    def check_cache(
        self,
        task_hash: str,
        args_hash: str,
        eval_hash: str,
        execution_id: str,
        scheduler_task_hashes: set[str],
        cache_scope: CacheScope,
        check_valid: CacheCheckValid,
        context_hash: str | None = None,
        allowed_cache_results: set[CacheResult] | None = None,
    ) -> CacheHit:
        """Look up a previous result in order CSE, ULTIMATE, SINGLE (redun's rules)."""

    @abstractmethod
    def explain_cache_miss(
        self, task_name: str, task_hash: str, args_hash: str, arg_hashes: dict[str, str]
    ) -> CacheMissReason:
        """Why (task_hash, args_hash) has no cached result.

        `arg_hashes` maps argument names (or positions as strings) to value
        hashes, so that "new_args" can name which argument changed.
        """

    # -- executions and jobs -------------------------------------------------------

    @abstractmethod
    def record_execution(self, execution_id: str, args: list[str], root_job_id: str) -> None:
        """Record an execution with its command line and root job."""

    @abstractmethod
    def record_updated_time(self, execution_id: str, now: datetime | None = None) -> None:
        """Heartbeat: the execution is still alive."""

    @abstractmethod
    def record_job_start(
        self,
        job_id: str,
        task: Any,
        execution_id: str,
        parent_id: str | None,
        cached: bool,
        start_time: datetime | None = None,
    ) -> None:
        """Record that a job started (`task` is a Task value, recorded if new)."""

    @abstractmethod
    def record_job_end(
        self, job_id: str, call_hash: str | None, end_time: datetime | None = None
    ) -> None:
        """Record that a job ended with the call node `call_hash`."""

    # -- handles --------------------------------------------------------------------

    @abstractmethod
    def advance_handle(self, parent_handles: Sequence[Any], child_handle: Any) -> None:
        """Record a handle's new state and its edges from the previous states."""

    @abstractmethod
    def rollback_handle(self, handle: Any) -> None:
        """Invalidate every recorded state that descends from `handle`."""

    @abstractmethod
    def is_valid_handle(self, handle: Any) -> bool:
        """Whether `handle`'s recorded state is still valid."""

    # -- tags ---------------------------------------------------------------------

    @abstractmethod
    def record_tags(
        self,
        entity_type: TagEntity,
        entity_id: str,
        tags: Iterable[tuple[str, Any]],
        parents: Iterable[str] = (),
        update: bool = False,
        new: bool = False,
    ) -> list[tuple[str, str, str, Any]]:
        """Add tags; return ``(tag_hash, entity_id, key, value)`` of each."""

    @abstractmethod
    def delete_tags(
        self, entity_id: str, tags: Iterable[tuple[str, Any]], keys: Iterable[str] = ()
    ) -> list[tuple[str, str, str, Any]]:
        """Delete tags by key/value (or by key alone)."""

    @abstractmethod
    def update_tags(
        self,
        entity_type: TagEntity,
        entity_id: str,
        old_keys: Iterable[str],
        new_tags: Iterable[tuple[str, Any]],
    ) -> list[tuple[str, str, str, Any]]:
        """Supersede the current tags with `old_keys` by `new_tags`."""

    @abstractmethod
    def get_tags(self, entity_ids: Iterable[str]) -> dict[str, Any]:
        """Current tags of each entity, as ``{entity_id: MultiMap(key -> values)}``."""

    # -- records (export/import, push/pull) ------------------------------------------

    @abstractmethod
    def iter_record_ids(self, root_ids: Iterable[str]) -> Iterator[str]:
        """Ids of every record reachable from `root_ids`."""

    @abstractmethod
    def get_records(self, ids: Iterable[str], sorted: bool = True) -> Iterator[dict]:
        """Serialized records (JSON-ready dicts, ``_version`` 1)."""

    @abstractmethod
    def put_records(self, records: Iterable[dict]) -> int:
        """Insert records not yet present; return how many were new."""
