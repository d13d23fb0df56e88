"""The contract between the scheduler and a state store: exactly what the scheduler calls.

The scheduler calls the ``record_*`` methods from its own thread, many times
per tick. Implementations may buffer those writes and must then write them in
one transaction when ``flush()`` is called (the scheduler calls it once per
tick and at the end of an execution). Every read method must see buffered
writes as if they had been flushed.

A state store is found by the URL scheme of ``[backend] db_uri`` through the
``redun_backends`` hook. Browsing what was recorded (``redun log``, ``redun
explain``, the console) is not part of this contract: a store that supports it
also returns a read model from ``reader()`` (see `redun.backends.db.reader`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from redun.cache import CacheCheckValid, CacheResult, CacheScope

if TYPE_CHECKING:
    from redun.backends.reasons import ArgInfo, MissReason


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


@dataclass(frozen=True, slots=True)
class CacheQuery:
    """One job's cache lookup: which call, where, and which kinds of hit may serve it.

    `scheduler_task_hashes` are the task hashes the scheduler knows (an
    ultimate-reduction hit must use only those); `allowed_cache_results`
    None allows every kind.
    """

    task_name: str
    task_hash: str
    args_hash: str
    eval_hash: str
    execution_id: str
    scheduler_task_hashes: AbstractSet[str]
    cache_scope: CacheScope
    check_valid: CacheCheckValid
    context_hash: str | None = None
    allowed_cache_results: Collection[CacheResult] | None = None


class RedunBackend(ABC):
    """A call-graph state store (the database behind caching and provenance)."""

    # -- lifecycle ----------------------------------------------------------------

    @abstractmethod
    def load(self, migrate: bool | None = None) -> None:
        """Connect, migrate if allowed, and check the schema version."""

    @abstractmethod
    def flush(self) -> None:
        """Write every buffered record in one transaction."""

    @property
    def buffered_bytes(self) -> int:
        """Bytes of serialized values waiting to be written (0 for a store that does not buffer).

        The scheduler writes early once this passes its limit, so a run of large
        results neither holds them all in memory nor learns late that the disk is full.
        """
        return 0

    @property
    def holds_records(self) -> bool:
        """Whether the last write kept records back on purpose, for the next one.

        A store may leave out of a write the rows it expects to change soon (a
        running job's, written once it ends); the scheduler then writes again
        MAX_FLUSH_DELAY later at the latest, so nothing waits on it longer.
        """
        return False

    def try_flush(self) -> bool:
        """Write buffered records if the store answers now; False if they stay held.

        The scheduler calls this while a run goes on, so that a store that is
        briefly unreachable holds its records for a later try instead of ending
        the run; it raises once writing is impossible. The default flushes.
        """
        self.flush()
        return True

    def abort_waits(self) -> bool:
        """Whether waits for an unreachable store should end now.

        The scheduler replaces it, while it runs, by a function that says True
        once the user asked the run to stop.
        """
        return False

    def close(self) -> None:
        """Flush and release connections (called by whoever built the store)."""
        self.flush()

    # -- values -----------------------------------------------------------------

    @abstractmethod
    def record_value(self, value: Any, value_hash: str | None = None) -> str:
        """Record `value` (and its subvalues, File/Task companion rows); return its hash.

        `value_hash`, when the caller already computed it, avoids hashing twice.
        Recording the same hash again is a no-op.
        """

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
    def check_cache(self, query: CacheQuery) -> CacheHit:
        """Look up a previous result in order CSE, ULTIMATE, SINGLE (redun's rules)."""

    def check_cache_many(self, queries: Sequence[CacheQuery]) -> list[CacheHit]:
        """`check_cache` of each query, in order; a store may batch their reads."""
        return [self.check_cache(query) for query in queries]

    @abstractmethod
    def explain_cache_miss(
        self, query: CacheQuery, arguments: Mapping[str, ArgInfo], params: Sequence[str]
    ) -> MissReason:
        """Why `query` found no usable result (called by ``redun run --dryrun`` only).

        `arguments` are the call's live arguments by parameter name (see
        `redun.backends.reasons.live_call_args`); `params` the task's positional
        parameter names, to name recorded positional arguments the same way.
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

    @abstractmethod
    def get_job(self, job_id: str) -> dict | None:
        """``{"job_id", "parent_id", "execution_id"}`` of a recorded job, or None.

        Used to extend an existing execution under one of its jobs (subrun).
        """

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
        self, entity_type: TagEntity, entity_id: str, tags: Iterable[tuple[str, Any]]
    ) -> Any:
        """Add ``(key, value)`` tags to a recorded entity (the result is the store's own)."""
