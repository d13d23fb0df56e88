"""A state store written against `redun.backends.base.RedunBackend` alone, in memory.

It proves the contract is enough for the scheduler: workflows run, and re-runs
in the same process hit the cache (CSE, ultimate and single reductions). It
is what a third-party store looks like, minus durability.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from redun.backends.base import (
    CACHE_MISS,
    ArgumentRecord,
    CacheHit,
    CacheQuery,
    RedunBackend,
    TagEntity,
)
from redun.backends.reasons import NEVER_RUN, NOT_REUSED, ArgInfo, MissReason
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.hashing import hash_call_node
from redun.value import get_type_registry

# Every store of this class in a process, by db_uri: "memory://name" is one repository.
STORES: dict[str, dict[str, Any]] = {}


class MemoryBackend(RedunBackend):
    def __init__(self, config: Mapping[str, str]) -> None:
        self.db_uri = config["db_uri"]
        self.loaded = False

    def load(self, migrate: bool | None = None) -> None:
        self.data = STORES.setdefault(
            self.db_uri,
            {"values": {}, "calls": {}, "evals": {}, "jobs": {}, "tags": [], "handles": {}},
        )
        self.loaded = True

    def flush(self) -> None:
        pass

    def record_value(self, value: Any, value_hash: str | None = None) -> str:
        registry = get_type_registry()
        value_hash = value_hash or registry.get_hash(value)
        if value_hash not in self.data["values"]:
            type_name = registry.get_type_name(type(value))
            self.data["values"][value_hash] = (type_name, registry.serialize(value))
        return value_hash

    def _value(self, value_hash: str) -> Any:
        return get_type_registry().deserialize(*self.data["values"][value_hash])

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
        call_hash = hash_call_node(task_hash, args_hash, result_hash, list(child_call_hashes))
        self.data["calls"][call_hash] = {
            "task_hash": task_hash,
            "args_hash": args_hash,
            "result_hash": result_hash,
            "subtree": {task_hash, *subtree_task_hashes},
        }
        return call_hash

    def record_call_node_context(self, call_hash: str, context_hash: str) -> None:
        self.data["calls"][call_hash]["context_hash"] = context_hash

    def get_subtree_tasks(self, call_hash: str) -> set[str]:
        return set(self.data["calls"][call_hash]["subtree"])

    def set_eval_cache(
        self, eval_hash: str, task_hash: str, args_hash: str, value: Any, value_hash: str
    ) -> None:
        self.data["evals"][eval_hash] = self.record_value(value, value_hash)

    def check_cache(self, query: CacheQuery) -> CacheHit:
        allowed = (
            set(CacheResult)
            if query.allowed_cache_results is None
            else set(query.allowed_cache_results)
        )
        if query.cache_scope == CacheScope.NONE:
            return CACHE_MISS
        calls = [
            (call_hash, call)
            for call_hash, call in self.data["calls"].items()
            if (call["task_hash"], call["args_hash"]) == (query.task_hash, query.args_hash)
            and call.get("context_hash") in (None, query.context_hash)
        ]
        if CacheResult.CSE in allowed:
            for job in self.data["jobs"].values():
                if job["execution_id"] == query.execution_id and any(
                    job["call_hash"] == call_hash for call_hash, _ in calls
                ):
                    call = self.data["calls"][job["call_hash"]]
                    result = self._value(call["result_hash"])
                    return CacheHit(result, job["call_hash"], CacheResult.CSE, call["result_hash"])
        if query.cache_scope != CacheScope.BACKEND:
            return CACHE_MISS
        if query.check_valid == CacheCheckValid.SHALLOW and CacheResult.ULTIMATE in allowed:
            for call_hash, call in calls:
                if call["subtree"] <= query.scheduler_task_hashes:
                    result = self._value(call["result_hash"])
                    return CacheHit(result, call_hash, CacheResult.ULTIMATE, call["result_hash"])
        value_hash = self.data["evals"].get(query.eval_hash)
        if CacheResult.SINGLE in allowed and value_hash is not None:
            return CacheHit(self._value(value_hash), None, CacheResult.SINGLE, value_hash)
        return CACHE_MISS

    def explain_cache_miss(
        self, query: CacheQuery, arguments: Mapping[str, ArgInfo], params: Sequence[str]
    ) -> MissReason:
        same = [
            call_hash
            for call_hash, call in self.data["calls"].items()
            if (call["task_hash"], call["args_hash"]) == (query.task_hash, query.args_hash)
        ]
        if same:
            return MissReason(NOT_REUSED, query.task_name, query.task_hash, None, same[0])
        return MissReason(NEVER_RUN, query.task_name, query.task_hash)

    def record_execution(self, execution_id: str, args: list[str], root_job_id: str) -> None:
        self.data.setdefault("executions", {})[execution_id] = root_job_id

    def record_updated_time(self, execution_id: str, now: datetime | None = None) -> None:
        pass

    def record_job_start(
        self,
        job_id: str,
        task: Any,
        execution_id: str,
        parent_id: str | None,
        cached: bool,
        start_time: datetime | None = None,
    ) -> None:
        self.record_value(task, task.hash)
        self.data["jobs"][job_id] = {
            "execution_id": execution_id,
            "parent_id": parent_id,
            "call_hash": None,
        }

    def record_job_end(
        self, job_id: str, call_hash: str | None, end_time: datetime | None = None
    ) -> None:
        self.data["jobs"][job_id]["call_hash"] = call_hash

    def get_job(self, job_id: str) -> dict | None:
        job = self.data["jobs"].get(job_id)
        if job is None:
            return None
        return {
            "job_id": job_id,
            "parent_id": job["parent_id"],
            "execution_id": job["execution_id"],
        }

    def advance_handle(self, parent_handles: Sequence[Any], child_handle: Any) -> None:
        self.data["handles"][child_handle.__handle__.hash] = True

    def rollback_handle(self, handle: Any) -> None:
        self.data["handles"][handle.__handle__.hash] = False

    def is_valid_handle(self, handle: Any) -> bool:
        return self.data["handles"].get(handle.__handle__.hash, False)

    def record_tags(
        self, entity_type: TagEntity, entity_id: str, tags: Iterable[tuple[str, Any]]
    ) -> Any:
        self.data["tags"].extend((entity_type, entity_id, key, value) for key, value in tags)
