"""Executions and jobs: the scheduler's in-memory record of work in flight."""

from __future__ import annotations

import builtins
from typing import Any

from redun.cache import CacheScope
from redun.expression import TaskExpression
from redun.promise import Promise
from redun.task import Task
from redun.utils import merge_dicts, new_uuid4

# Pickles (tracebacks recorded in the database) name these classes as redun did.
_PICKLE_MODULE = "redun.scheduler"

# What a finished job's cleared fields point at: shared, and immutable so that a
# late append fails loudly instead of growing a list every job shares.
_CLEARED: tuple = ()
_NO_OPTIONS: dict[str, Any] = {}  # never mutated: options are replaced, not edited
_NO_ARG_HASHES: tuple = ((), {}, [], {})
_NO_CALL_KEY: tuple[None, None] = (None, None)

_OWN_SUBTREES: dict[str, frozenset[str]] = {}


def _own_subtree(task_hash: str) -> frozenset[str]:
    subtree = _OWN_SUBTREES.get(task_hash)
    if subtree is None:
        subtree = _OWN_SUBTREES[task_hash] = frozenset((task_hash,))
    return subtree


JOB_STATUSES = ["PENDING", "RUNNING", "FAILED", "CACHED", "DONE", "TOTAL"]


class Execution:
    """One run of a workflow: an id, its context and its root job."""

    __module__ = _PICKLE_MODULE

    def __init__(self, id: str | None = None, context: dict | None = None) -> None:
        self.id = id or new_uuid4()
        self.job: Job | None = None
        self.context: dict = context if context is not None else {}

    def add_job(self, job: Job) -> None:
        if self.job is None:
            self.job = job


class Job:
    """One evaluation of a TaskExpression, from argument evaluation to its final result."""

    __module__ = _PICKLE_MODULE

    STATUSES = JOB_STATUSES
    # Whether ended children stay whole Jobs in child_jobs (a caller reads them after).
    keeps_children = False

    def __init__(
        self,
        task: Task,
        expr: TaskExpression | None,
        id: str | None = None,
        parent_job: Job | None = None,
        execution: Execution | None = None,
        options: dict | None = None,
    ) -> None:
        self.id = id or new_uuid4()
        self.task = task
        self.expr = expr
        # The expression's key in the parent's map of started expressions (kept after clear()).
        self.expr_id = builtins.id(expr)
        self.execution = execution
        self.parent_job = parent_job
        # Scheduler-level overrides (run(cache=False), prov inherited off).
        self.options: dict[str, Any] = options or _NO_OPTIONS
        # Shared with the task (or parent) when nothing adds to it; never mutated in place.
        exports = task._export_options
        if expr is not None and expr._export_options:
            exports = exports | expr._export_options
        if parent_job is not None:
            if parent_job.export_options:
                exports = exports | parent_job.export_options
            # Where this job sits among its siblings, so that its entry can be
            # replaced by a FinishedChild when it ends.
            self.sibling_index = len(parent_job.child_jobs)
            parent_job.child_jobs.append(self)
        self.export_options: set[str] = exports
        self.eval_options: dict | None = None
        self._context: dict | None = None
        self.context_hash: str | None = None
        self.eval_args: tuple[tuple, dict] | None = None
        self.args: tuple[tuple, dict] | None = None
        self.args_hash: str | None = None
        # (args, kwargs, positional hashes, keyword hashes) used for args_hash.
        self.arg_hashes: tuple = _NO_ARG_HASHES
        self.eval_hash: str | None = None
        # (eval_hash, context_hash), set once both are known.
        self.call_key: tuple[str | None, str | None] = _NO_CALL_KEY
        self.was_cached = False
        self.call_hash: str | None = None
        # The task alone, shared by every job of it until children add to it.
        self.subtree_tasks: set[str] | frozenset[str] = _own_subtree(task.hash)
        self.result_promise: Promise = Promise()
        self.child_jobs: list[Job | FinishedChild] = []
        # Handle value hash -> how many children were passed it so far (made on first use).
        self.handle_forks: dict[str, int] | None = None
        self.job_tags: list[tuple[str, Any]] = []
        self.execution_tags: list[tuple[str, Any]] = []
        self.value_tags: list[tuple[str, list[tuple[str, Any]]]] = []
        # Whether the arguments hold only builtin leaves (no Files, handles, JobInfo).
        self.plain_args = False
        self.submitted = False
        self._status: str | None = None
        if execution is not None:
            execution.add_job(self)

    def __repr__(self) -> str:
        return f"Job(id={self.id}, task_name={self.task.fullname})"

    def __getstate__(self) -> dict:
        # Jobs travel inside recorded tracebacks; only their identity is useful there.
        return {"id": self.id, "task": self.task, "_status": self.status}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @property
    def status(self) -> str:
        if self._status:
            return self._status
        if self.eval_args is None:
            return "PENDING"
        promise = self.result_promise
        if promise.is_pending:
            return "RUNNING"
        if promise.is_fulfilled:
            return "CACHED" if self.was_cached else "DONE"
        return "FAILED"

    # -- options ---------------------------------------------------------------

    def get_raw_options(self) -> dict:
        """Options before evaluation: task < inherited exports < call-time < scheduler."""
        parent_options = self.parent_job.get_export_options() if self.parent_job else {}
        expr_options = self.expr._options if self.expr is not None else {}
        if not parent_options and not expr_options and not self.options:
            return self.task.get_task_options()
        return {
            **self.task.get_task_options(),
            **parent_options,
            **expr_options,
            **self.options,
        }

    def get_options(self) -> dict:
        if self.eval_options is None:
            self.eval_options = self.get_raw_options()
        return self.eval_options

    def get_option(self, key: str, default: Any = None, as_type: type | None = None) -> Any:
        value = self.get_options().get(key, default)
        return as_type(value) if as_type is not None else value

    def get_export_options(self) -> dict:
        if not self.export_options:
            return {}
        return {k: v for k, v in self.get_options().items() if k in self.export_options}

    def recording_provenance(self) -> bool:
        return self.get_options().get("prov", True)

    def get_context(self) -> dict:
        if self._context is None:
            if self.parent_job is not None:
                parent_context = self.parent_job.get_context()
            else:
                parent_context = self.execution.context if self.execution else {}
            override = self.get_option("_context_override", {})
            self._context = merge_dicts([parent_context, override]) if override else parent_context
        return self._context

    def get_limits(self) -> dict[str, int]:
        limits = self.get_option("limits", {})
        if isinstance(limits, (list, tuple, set)):
            return {name: 1 for name in limits}
        return dict(limits)

    def cache_scope(self) -> CacheScope:
        return CacheScope(self.get_option("cache_scope", CacheScope.BACKEND))

    # -- lifecycle ---------------------------------------------------------------

    def next_handle_call_order(self, value_hash: str) -> int:
        """The call order of one more child given the handle `value_hash` (1 for the first)."""
        forks = self.handle_forks
        if forks is None:
            forks = self.handle_forks = {}
        order = forks[value_hash] = forks.get(value_hash, 0) + 1
        return order

    def calc_subtree_tasks(self) -> set[str] | frozenset[str]:
        tasks = self.subtree_tasks
        for child in self.child_jobs:
            if child.call_hash and not child.subtree_tasks <= tasks:
                if isinstance(tasks, frozenset):
                    tasks = set(tasks)
                tasks |= child.subtree_tasks
        self.subtree_tasks = tasks
        return tasks

    def resolve(self, result: Any) -> None:
        if self.recording_provenance() and self.expr is not None:
            self.expr.call_hash = self.call_hash
        self._status = "CACHED" if self.was_cached else "DONE"
        self.clear()
        self.result_promise.do_resolve(result)

    def reject(self, error: BaseException) -> None:
        if self.recording_provenance() and self.expr is not None:
            self.expr.call_hash = self.call_hash
        self._status = "FAILED"
        self.clear()
        self.result_promise.do_reject(error)

    def clear(self) -> None:
        """Drop execution state so finished jobs do not keep whole trees alive."""
        self._status = self.status
        self.expr = None
        self.eval_args = None
        self.args = None
        self.arg_hashes = _NO_ARG_HASHES
        self._context = None
        self.job_tags = _CLEARED
        self.execution_tags = _CLEARED
        self.value_tags = _CLEARED
        self.child_jobs = _CLEARED


class FinishedChild:
    """What a parent still reads of a child job that has ended, in its place.

    A parent's list of children lives as long as the parent; holding the Jobs
    themselves there kept every child of a million-task fan-out alive until the
    end. The parent needs only the call, its subtree and whether it is recorded
    (and, to share a repeated call, its options and result promise).
    """

    __slots__ = (
        "task",
        "status",
        "call_hash",
        "subtree_tasks",
        "eval_options",
        "result_promise",
        "_prov",
    )

    def __init__(self, job: Job | None) -> None:
        if job is None:
            # A repeated call that became another job's: no call of its own.
            self.task = self.call_hash = self.eval_options = None
            self.status = "DONE"
            self.subtree_tasks: frozenset[str] | set[str] = frozenset()
            self.result_promise: Promise | None = None
            self._prov = True
            return
        self.task = job.task
        self.status = job.status
        self.call_hash = job.call_hash
        self.subtree_tasks = job.subtree_tasks
        self.eval_options = job.eval_options
        self.result_promise = job.result_promise
        self._prov = job.recording_provenance()

    def recording_provenance(self) -> bool:
        return self._prov

    def __repr__(self) -> str:
        name = self.task.fullname if self.task is not None else None
        return f"FinishedChild(task_name={name}, call_hash={self.call_hash})"


# The entry a shared (repeated) call leaves among its parent's children.
SHARED_CALL = FinishedChild(None)


class JobEnv(Job):
    """A parent job seen with another context (for evaluating a child's default arguments)."""

    __module__ = _PICKLE_MODULE

    def __init__(self, job: Job | None, context: dict) -> None:
        self.__dict__["_env_job"] = job
        self.__dict__["_env_context"] = context

    def __getattr__(self, attr: str) -> Any:
        job = self.__dict__["_env_job"]
        if job is None:
            raise AttributeError(attr)
        return getattr(job, attr)

    def get_context(self) -> dict:
        return self._env_context

    def recording_provenance(self) -> bool:
        job = self._env_job
        return job.recording_provenance() if job is not None else True

    def get_export_options(self) -> dict:
        job = self._env_job
        return job.get_export_options() if job is not None else {}
