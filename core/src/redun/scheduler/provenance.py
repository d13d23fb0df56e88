"""Writing a job's provenance to the state store: jobs, call nodes, arguments, tags.

Everything is handed to the backend's buffered ``record_*`` methods; nothing
here waits on the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redun.expression import Expression
from redun.hashing import hash_call_node
from redun.scheduler.jobs import Job
from redun.scheduler.nested import is_plain, upstream_call_hashes
from redun.tracebacks import ErrorValue, Traceback
from redun.utils import pickle_dumps

if TYPE_CHECKING:
    from redun.scheduler.scheduler import Scheduler

_TAG_ENTITIES: dict[str, Any] = {}


def tag_entity(name: str) -> Any:
    """The backend's TagEntity member (imported on first use: it loads the backend base)."""
    entity = _TAG_ENTITIES.get(name)
    if entity is None:
        from redun.backends.base import TagEntity

        entity = _TAG_ENTITIES[name] = TagEntity(name)
    return entity


class ProvenanceRecorder:
    """Records what the scheduler does, through whatever backend it currently has."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def job_start(self, job: Job, cached: bool) -> None:
        scheduler = self.scheduler
        backend = scheduler.backend
        execution = job.execution
        if execution.job is job and not scheduler._extending:
            # The execution is recorded with its root job (never without one).
            backend.record_execution(execution.id, scheduler._exec_argv, job.id)
            backend.record_tags(
                tag_entity("Execution"),
                execution.id,
                [*scheduler._exec_tags, *scheduler._exec_run_tags],
            )
        parent_id = job.parent_job.id if job.parent_job is not None else None
        backend.record_job_start(job.id, job.task, execution.id, parent_id, cached=cached)

    def call_node(self, job: Job, result_hash: str, children: list[str], subtree: set[str]) -> str:
        """Record the job's call node (its result value must be recorded already).

        Children run without provenance count in the call hash but get no edge:
        their call nodes were never recorded.
        """
        task = job.task
        backend = self.scheduler.backend
        if job.was_cached:
            # A cache hit's call node is usually stored with its arguments already.
            call_hash = hash_call_node(task.hash, job.args_hash, result_hash, children)
            if backend.is_call_node_recorded(call_hash):
                return call_hash
        unrecorded = {
            child.call_hash
            for child in job.child_jobs
            if child.call_hash and not child.recording_provenance()
        }
        self._unrecorded_subtree_tasks(job, subtree)
        return backend.record_call_node(
            task.fullname,
            task.hash,
            job.args_hash,
            self._arguments(job),
            result_hash,
            children,
            subtree,
            unrecorded_child_call_hashes=unrecorded,
        )

    def job_end(self, job: Job) -> None:
        backend = self.scheduler.backend
        if job.context_hash:
            backend.record_call_node_context(job.call_hash, job.context_hash)
        self._tags(job)
        backend.record_job_end(job.id, job.call_hash)

    def error_value(
        self, error: BaseException, error_traceback: Traceback | None
    ) -> tuple[ErrorValue, str]:
        """The recordable error value; an unpicklable error is recorded as its repr."""
        get_hash = self.scheduler.type_registry.get_hash
        error_value = ErrorValue(error, error_traceback or Traceback.from_error(error))
        try:
            pickle_dumps(error_value)
            return error_value, get_hash(error_value)
        except Exception:
            substitute = Exception(repr(error))
            frames = (error_traceback or Traceback.from_error(error)).frames
            error_value = ErrorValue(substitute, Traceback(substitute, frames))
            try:
                return error_value, get_hash(error_value)
            except Exception:
                error_value = ErrorValue(substitute, Traceback(substitute, []))
                return error_value, get_hash(error_value)

    def _unrecorded_subtree_tasks(self, job: Job, subtree: set[str]) -> None:
        """Tasks used only below children without provenance must still exist as records."""
        if all(child.recording_provenance() for child in job.child_jobs):
            return
        scheduler = self.scheduler
        for task_hash in subtree:
            registered = scheduler.task_registry.get(hash=task_hash)
            if registered is not None:
                scheduler.backend.record_value(registered, task_hash)

    def _arguments(self, job: Job) -> list:
        from redun.backends.base import ArgumentRecord

        eval_args, eval_kwargs = job.eval_args
        expr = job.expr
        expr_args, expr_kwargs = (expr.args, expr.kwargs) if expr is not None else ((), {})
        get_hash = self.scheduler.type_registry.get_hash
        record_value = self.scheduler.backend.record_value
        records = []
        hashed_args, hashed_kwargs, pos_hashes, kw_hashes = job.arg_hashes

        def add(position: int | None, key: str | None, expr_arg: Any, value: Any) -> None:
            # Reuse the hash computed for args_hash when the value is the same object.
            if position is not None:
                hashed = hashed_args[position] if position < len(hashed_args) else None
                value_hash = pos_hashes[position] if hashed is value else None
            else:
                hashed = hashed_kwargs.get(key)
                value_hash = kw_hashes[key] if hashed is value else None
            if value_hash is None:
                value_hash = get_hash(value)
            record_value(value, value_hash)
            upstream = (
                tuple(sorted(upstream_call_hashes(expr_arg)))
                if isinstance(expr_arg, Expression) or not is_plain(expr_arg)
                else ()
            )
            records.append(ArgumentRecord(position, key, value_hash, upstream))

        for i, (expr_arg, value) in enumerate(zip(expr_args, eval_args)):
            add(i, None, expr_arg, value)
        for key in sorted(set(eval_kwargs) & set(expr_kwargs)):
            add(None, key, expr_kwargs[key], eval_kwargs[key])
        for key, value in eval_kwargs.items():
            if key not in expr_kwargs:
                add(None, key, value, value)
        return records

    def _tags(self, job: Job) -> None:
        record_tags = self.scheduler.backend.record_tags
        for value_hash, tags in job.value_tags:
            record_tags(tag_entity("Value"), value_hash, tags)
        job_tags = list(job.get_option("tags", None) or []) + job.job_tags
        if job_tags:
            record_tags(tag_entity("Job"), job.id, job_tags)
        if job.execution_tags:
            record_tags(tag_entity("Execution"), job.execution.id, job.execution_tags)
        task_tags = job.task.get_task_option("tags")
        if task_tags:
            record_tags(tag_entity("Task"), job.task.hash, task_tags)
