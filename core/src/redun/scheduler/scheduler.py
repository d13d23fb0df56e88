"""The scheduler: reduces expressions to values by running, caching and recording jobs.

Everything here runs on one thread (the one that called ``run``). Executors
report back through ``done_job``/``reject_job``, which only enqueue an event.
Work created on the scheduler thread goes through a local ready queue instead
of nested calls, so workflow depth never turns into Python stack depth; jobs
whose result has arrived go through a second queue that runs first, so a
finished job is recorded however many jobs wait to start.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import queue
import shlex
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable
from itertools import chain
from typing import Any

from redun.backends.base import CacheHit, CacheQuery
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.errors import RedunError
from redun.executors.value_checks import OpenFileResult, check_result, path_warnings
from redun.expression import (
    ApplyExpression,
    Expression,
    SchedulerExpression,
    SimpleExpression,
    TaskExpression,
    ValueExpression,
    get_lazy_operation,
    quote,
)
from redun.handle import Handle
from redun.hashing import hash_call_node, hash_struct
from redun.logging import flush_job_lines, job_line
from redun.promise import Promise
from redun.runtime import JobInfo, set_current_scheduler
from redun.scheduler.errors import DryRunResult, SchedulerError, TaskNotFoundError
from redun.scheduler.formatting import format_task_call, job_action, short_repr
from redun.scheduler.jobs import SHARED_CALL, Execution, FinishedChild, Job, JobEnv
from redun.scheduler.limits import Limits, parse_limits
from redun.scheduler.nested import (
    PLAIN_TYPES,
    get_arg_defaults,
    has_expression,
    is_plain,
    needs_root_task,
    resolved,
)
from redun.scheduler.provenance import ProvenanceRecorder, tag_entity
from redun.scheduler.root_task import root_task
from redun.scheduler.signals import SchedulerInterrupted, handle_signals, signal_name
from redun.scheduler.status import format_job_statuses
from redun.scheduler.tracebacks import job_frames
from redun.task import get_task_registry
from redun.tracebacks import ErrorValue, Traceback
from redun.utils import iter_nested_value, map_nested_value, merge_dicts, trim_string
from redun.value import get_type_registry

# A call as the scheduler dedupes it: (eval hash, context hash).
CallKey = tuple[str | None, str | None]

_logger = logging.getLogger("redun")

DEFAULT_JOB_STATUS_INTERVAL = 20
# A finished job's records are written at most this long after it finished,
# however busy the scheduler is (the SIGKILL tests hold it to this).
MAX_FLUSH_DELAY = 0.5
IDLE_FLUSH_DELAY = 0.05
# The bound is on the commit's end, so a write starts as much earlier as writes take
# (the slowest recent one, forgotten by this factor per write), but never sooner than this.
MIN_FLUSH_DELAY = 0.05
WRITE_TIME_DECAY = 0.8
# Ready work runs in slices of this many items, so completions are never starved.
READY_SLICE = 256
# Executor events per turn of the loop, between looks at the write deadline.
EVENT_SLICE = 4 * READY_SLICE
# Backend cache checks are asked for in batches of up to this many jobs (one query).
CACHE_CHECK_BATCH = 500
# This many events' records, or this many bytes of values, make a batch worth writing
# before the deadline. Every commit rewrites each index page its rows touch, and with
# hash keys that is most of every index once the database is big, so fewer commits pay;
# but a bigger batch takes longer to write, and what finishes meanwhile waits for it.
# 100,000-task fan-out, first run: 1,000 events 59 s, 3,000 51 s, 10,000 41 s; lag p99
# at 10,000 tasks (load 2-2.5): 0.51-0.56 s, 0.75-0.87 s, 1.52-1.64 s.
FLUSH_BATCH = 3000
FLUSH_BYTES = 4 * 1024 * 1024
# While the database is unreachable, a write is retried this often.
WRITE_RETRY_DELAY = 1.0
# A running scheduler refreshes its execution's updated_time this often.
HEARTBEAT_INTERVAL = 10.0
# How long a stopping run waits for jobs still running (`[scheduler] stop_grace`).
DEFAULT_STOP_GRACE = 3.0

EVENT_HOOKS = (
    "redun_execution_started",
    "redun_job_submitted",
    "redun_job_done",
    "redun_job_failed",
    "redun_execution_finished",
)


class Scheduler:
    """Evaluates expressions: runs jobs on executors, caches and records them."""

    def __init__(
        self,
        config: Any = None,
        backend: Any = None,
        executor: Any = None,
        logger: Any = None,
        use_task_traceback: bool = True,
        job_status_interval: int | None = None,
        migrate: bool | None = None,
    ) -> None:
        from redun.scheduler.setup import (
            backend_from_config,
            config_dir_of,
            executors_from_config,
            resolve_config,
        )

        self.logger = logger or _logger
        self.config = resolve_config(config)
        # Handed to executors, so they need not know where redun.ini keeps it.
        self.config_dir: str | None = config_dir_of(self.config)
        scheduler_config = self.config.get("scheduler", {})
        self.ignore_warnings = set((scheduler_config.get("ignore_warnings") or "").split())
        self.use_task_traceback = use_task_traceback
        self.traceback: Traceback | None = None
        interval = job_status_interval or _config_int(
            scheduler_config, "job_status_interval", DEFAULT_JOB_STATUS_INTERVAL
        )
        self.job_status_interval: int | None = interval if interval > 0 else None
        # Keep going after a failure: independent branches run to completion and are cached.
        self.keep_going = _config_bool(scheduler_config, "keep_going", True)
        self.stop_grace = _config_float(scheduler_config, "stop_grace", DEFAULT_STOP_GRACE)
        self._migrate = migrate
        self._loaded = False
        self.backend = backend if backend is not None else backend_from_config(self.config)

        self.executors: dict[str, Any] = {}
        if executor is not None:
            self.add_executor(executor)
        else:
            from redun.executors.local import LocalExecutor

            self.add_executor(LocalExecutor("default", mode="thread"))
            self.add_executor(LocalExecutor("process", mode="process"))
        for configured in executors_from_config(self.config, self):
            self.add_executor(configured)

        self.limits: dict[str, int] = parse_limits(self.config.get("limits"))
        self._limits = Limits(self.limits)
        self._exec_tags = self._tags_from_config()
        self._context = self._context_from_config(scheduler_config)

        self.events_queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ready: deque = deque()
        # Finished jobs' resolutions: ahead of `_ready`, which a fan-out fills with starts.
        self._finishing: deque = deque()
        self._tracked_promises: dict[str, Promise] = {}
        self.task_registry = get_task_registry()
        self.type_registry = get_type_registry()
        self._recorder = ProvenanceRecorder(self)

        self.thread_id: int | None = None
        self.workflow_promise: Promise | None = None
        self._current_execution: Execution | None = None
        self._exec_argv: list[str] = []
        self._exec_run_tags: list[tuple[str, Any]] = []
        self._extending = False
        self._reset_state()
        self._dryrun = False
        self._use_cache = True

        from redun.plugins.manager import get_plugin_manager

        self._plugin_manager = get_plugin_manager()
        self._hooks: dict[str, Any] = {}
        self._plugin_manager.hook.redun_scheduler_setup(scheduler=self)

    # -- configuration ---------------------------------------------------------

    def _tags_from_config(self) -> list[tuple[str, Any]]:
        tags = self.config.get("tags", {})
        if not tags:
            return []
        from redun.tags import parse_tag_value

        return [(key, parse_tag_value(value)) for key, value in tags.items()]

    @staticmethod
    def _context_from_config(scheduler_config: Any) -> dict:
        text = scheduler_config.get("context")
        context_file = scheduler_config.get("context_file")
        if text and context_file:
            raise SchedulerError(
                "[scheduler] sets both context and context_file; keep only one of them"
            )
        if context_file:
            try:
                with open(context_file) as handle:
                    text = handle.read()
            except OSError as error:
                raise SchedulerError(
                    f"[scheduler] context_file {context_file}: {error.strerror}"
                ) from None
        if not text:
            return {}
        try:
            context = json.loads(text)
        except json.JSONDecodeError as error:
            raise SchedulerError(f"Invalid redun context JSON definition: {error}") from None
        if not isinstance(context, dict):
            raise SchedulerError("The redun context must be a JSON object ({...})")
        return context

    def add_executor(self, executor: Any) -> None:
        self.executors[executor.name] = executor
        executor.set_scheduler(self)

    def load(self, migrate: bool | None = None) -> None:
        """Connect the backend (and migrate it when allowed)."""
        self.backend.load(migrate=migrate)
        self._loaded = True

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load(self._migrate)

    @property
    def is_running(self) -> bool:
        return self._current_execution is not None

    def clear(self) -> None:
        self._reset_state()

    def _reset_state(self) -> None:
        self._pending_expr: dict[Any, dict[int, tuple[Promise, Expression]]] = {}
        self._pending_jobs: dict[CallKey, Job] = {}
        # Per parent job, its child jobs by call: an identical call is the same job.
        self._child_calls: dict[Job | None, dict[CallKey, Job | FinishedChild]] = {}
        self._cse: dict[CallKey, tuple[Any, str | None]] = {}
        # Jobs waiting for their backend cache check, asked for in one batch.
        self._cache_checks: list[tuple[Job, CacheQuery]] = []
        self._cache_check_scheduled = False
        self._jobs: set[Job] = set()
        self._finalized_jobs: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self._running = 0
        # Stopping: start nothing new (interrupt, fatal error, or a failure without keep-going).
        self._stopping = False
        self._stop_deadline = math.inf
        self._interrupt: SchedulerInterrupted | None = None
        self._signal_count = 0
        self._task_failures = 0
        self._write_failed = False
        self._warned_paths: set[str] = set()
        self._started_executors: list[Any] = []
        # Promises of threads forked in an earlier execution can no longer settle.
        self._tracked_promises.clear()
        # Nothing from an earlier execution may leak into the next one.
        self._ready.clear()
        self._finishing.clear()
        while not self.events_queue.empty():
            self.events_queue.get_nowait()
        self._context_hashes: dict[int, tuple[dict, str]] = {}

    def log(
        self, *messages: Any, indent: int = 0, multiline: bool = False, level: int = logging.INFO
    ) -> None:
        text = " ".join(map(str, messages))
        lines = [text] if multiline else text.split("\n")
        for line in lines:
            self.logger.log(level, " " * indent + line)

    def _validate_tasks(self) -> None:
        if "namespace" in self.ignore_warnings:
            return
        missing = [t for t in self.task_registry if not t.namespace]
        if missing:
            names = ", ".join(
                f"{os.path.basename(_func_file(t.func))}:{t.func.__name__}" for t in missing
            )
            self.logger.warning(
                "Tasks will require namespace soon. Either set namespace in the `@task` decorator "
                "or with the module-level variable `redun_namespace`.\n"
                f"tasks needing namespace: {names}"
            )

    # -- running ---------------------------------------------------------------

    def run(
        self,
        expr: Any,
        exec_argv: list[str] | None = None,
        dryrun: bool = False,
        cache: bool = True,
        tags: Iterable[tuple[str, Any]] = (),
        context: dict | None = None,
        execution_id: str | None = None,
    ) -> Any:
        """Evaluate `expr` to a value (blocking); raises the workflow's error if it fails."""
        if self.is_running:
            raise SchedulerError(
                "This Scheduler is already running an execution; create another Scheduler "
                "to run workflows concurrently"
            )
        self._ensure_loaded()
        if needs_root_task(self.task_registry, expr):
            expr = root_task(quote(expr))
        if exec_argv is None:
            exec_argv = ["scheduler.run", short_repr(expr)]
        execution = Execution(execution_id, context=merge_dicts([self._context, context or {}]))
        self._current_execution = execution
        self._exec_argv = list(exec_argv)
        self._exec_run_tags = list(tags)
        self._extending = False
        self.log(
            f"Start Execution {execution.id}:  redun "
            + " ".join(shlex.quote(arg) for arg in exec_argv[1:])
        )
        promise = self._run(expr, parent_job=None, dryrun=dryrun, cache=cache)
        if promise.is_fulfilled:
            return promise.value
        if promise.is_rejected:
            if self.traceback and not isinstance(promise.error, SchedulerInterrupted):
                self.log("*** Execution failed. Traceback (most recent task last):")
                for line in self.traceback.format():
                    self.log(line.rstrip("\n"))
            if self._task_failures > 1:
                self.log(
                    f"*** {self._task_failures} jobs failed; the traceback above is the first. "
                    + (
                        "Independent jobs ran to completion and are cached."
                        if self.keep_going
                        else "Nothing new started after the first (fail-fast)."
                    )
                )
            raise promise.error
        if self._interrupt is not None:
            raise self._interrupt
        self.log("Dryrun: Additional jobs would run.")
        raise DryRunResult()

    def extend_run(
        self,
        expr: Any,
        parent_job_id: str,
        dryrun: bool = False,
        cache: bool = True,
        context: dict | None = None,
    ) -> dict:
        """Evaluate `expr` as new jobs under an existing job of an existing execution."""
        self._ensure_loaded()
        if needs_root_task(self.task_registry, expr):
            expr = root_task(quote(expr))
        details = self.backend.get_job(parent_job_id)
        if not details:
            # ValueError as in redun; the rest says what to do.
            raise ValueError(
                f"Unknown parent_job_id: {parent_job_id} is not in this scheduler's database; "
                "a subrun extending the calling execution needs the caller's database "
                "(a shared [backend] db_uri), or new_execution=True"
            )
        execution = Execution(details["execution_id"])
        self._current_execution = execution
        self._extending = True
        parent_job = Job(
            root_task,
            root_task(quote(None)),
            id=parent_job_id,
            execution=execution,
            options={"_context_override": context or {}},
        )
        parent_job.eval_args = ((quote(None),), {})
        # Its one child's Job is read below, id and all.
        parent_job.keeps_children = True
        promise = self._run(expr, parent_job=parent_job, dryrun=dryrun, cache=cache)
        job = parent_job.child_jobs[0] if parent_job.child_jobs else None
        info = {"job_id": job.id if job else None, "call_hash": job.call_hash if job else None}
        if promise.is_fulfilled:
            return {"result": promise.value, **info}
        if promise.is_rejected:
            return {"error": promise.error, **info}
        return {"dryrun": True, **info}

    def _run(self, expr: Any, parent_job: Job | None, dryrun: bool, cache: bool) -> Promise:
        started = time.time()
        set_current_scheduler(self)
        self._reset_state()
        self._dryrun = dryrun
        self._use_cache = cache
        self.traceback = None
        self._hooks = {
            name: getattr(self._plugin_manager.hook, name)
            for name in EVENT_HOOKS
            if self._plugin_manager.has_listeners(name)
        }
        execution = self._current_execution
        backend = self.backend
        # Waiting out a database outage ends at the first signal.
        backend.abort_waits = lambda: self._signal_count > 0
        promise: Promise | None = None
        try:
            with handle_signals(self._on_signal):
                try:
                    for executor in self.executors.values():
                        executor.start()
                        self._started_executors.append(executor)
                    self._validate_tasks()
                    self.thread_id = threading.get_ident()
                    self._fire("redun_execution_started", execution=execution)
                    promise = self.evaluate(expr, parent_job=parent_job)
                    self._process_events(promise)
                    self._record_stop(promise)
                    self.log(f"Execution duration: {time.time() - started:.2f} seconds")
                finally:
                    flush_job_lines()
                    self._end_run(promise)
        finally:
            self._current_execution = None
            set_current_scheduler(None)
        if not promise.is_pending:
            status = "DONE" if promise.is_fulfilled else "FAILED"
            self._fire("redun_execution_finished", execution=execution, status=status)
        return promise

    def _end_run(self, promise: Promise | None) -> None:
        """Stop the executors (ending what still runs) and write every record left."""
        if promise is None or promise.is_pending or self._stopping:
            # Stopped early (a signal, an error): executors end their jobs, not wait.
            self._stop(0.0)
        for executor in self._started_executors:
            try:
                executor.stop()
            except Exception as error:
                self.logger.warning("Executor %s did not stop cleanly: %s", executor.name, error)
        try:
            self.backend.flush()
        except Exception as error:
            if promise is None or not promise.is_rejected:
                raise
            if str(error) != str(promise.error):
                # The run failed already; its own error is the one raised.
                self.log(f"*** {error}")

    def _record_stop(self, promise: Promise) -> None:
        """An interrupted run records its root job as failed, so it never looks alive."""
        interrupt = self._interrupt
        root = self._current_execution.job if self._current_execution else None
        if interrupt is None or root is None or self._extending:
            return
        running = self._running
        if root.result_promise.is_pending and root.args_hash is not None:
            self._reject_job_now(root, interrupt)
        if promise.is_pending:
            promise.do_reject(interrupt)
        if running:
            self.log(f"Stopped with {running} job(s) still running; they were ended unrecorded.")

    def _fire(self, name: str, **kwargs: Any) -> None:
        hook = self._hooks.get(name)
        if hook is None:
            return
        try:
            hook(scheduler=self, **kwargs)
        except Exception as error:
            if self._plugin_manager.strict:
                raise
            self.logger.warning("Plugin hook %s failed: %r", name, error)

    def _process_events(self, workflow_promise: Promise) -> None:
        """The event loop: executor events, finished jobs, then ready work, until all settles.

        Records are buffered and written in one transaction per batch: after
        FLUSH_BATCH events or FLUSH_BYTES of values, at once when the loop goes idle,
        and however busy it is early enough that the write ends about MAX_FLUSH_DELAY
        after the first unwritten record (it starts as much earlier as writes take).
        """
        self.workflow_promise = workflow_promise
        execution = self._current_execution
        workflow_promise._listen(lambda _: None, self._on_workflow_failed)
        # How long writes take lately, and so how soon after a record its write starts.
        self._write_s = 0.0
        self._flush_delay = MAX_FLUSH_DELAY
        backend = self.backend
        try_flush = backend.try_flush
        backend.record_updated_time(execution.id)
        events = self.events_queue
        ready = self._ready
        finishing = self._finishing
        run_event = self._run_event
        clock = time.monotonic
        inf = math.inf
        status_every = self.job_status_interval or inf
        now = clock()
        next_status = now + status_every
        next_beat = now + HEARTBEAT_INTERVAL
        flush_at = inf  # when the oldest unwritten record must be written
        unwritten = 0  # events run since the last write
        batch = FLUSH_BATCH  # unwritten events that call for a write (inf while writes are held)
        while True:
            # Executor events (finished jobs) first, then their resolutions, then a slice
            # of new work: events go several times faster than starts, so finished jobs
            # never queue up behind new ones.
            for _ in range(EVENT_SLICE):
                try:
                    event = events.get_nowait()
                except queue.Empty:
                    break
                run_event(event)
                unwritten += 1
                if flush_at == inf:
                    flush_at = clock() + self._flush_delay
                if backend.buffered_bytes >= FLUSH_BYTES:
                    break
            if finishing or ready:
                if flush_at == inf:
                    flush_at = clock() + self._flush_delay
                while finishing:
                    unwritten += 1
                    run_event(finishing.popleft())
                count = min(len(ready), READY_SLICE)
                unwritten += count
                for _ in range(count):
                    run_event(ready.popleft())
            now = clock()
            if now >= next_beat:
                next_beat = now + HEARTBEAT_INTERVAL
                backend.record_updated_time(execution.id)
                flush_at = min(flush_at, now)
            if (
                now >= flush_at
                or unwritten >= batch
                or (batch < inf and backend.buffered_bytes >= FLUSH_BYTES)
            ):
                flush_at, batch = self._flush(try_flush, now)
                unwritten = 0
            if now >= next_status:
                next_status = now + status_every
                if not _debugger_active():
                    self.log_job_statuses()
            if ready or finishing:
                continue
            if self._stopping:
                if self._running == 0 or now >= self._stop_deadline:
                    break
            elif self._running == 0 and events.empty():
                if not workflow_promise.is_pending or self._dryrun:
                    break
                # Nothing runs and nothing will arrive: waiting would be forever.
                self._reject_workflow(self._stuck_error())
                continue
            if flush_at < inf:
                wake = min(flush_at, now + IDLE_FLUSH_DELAY)
            else:
                wake = min(next_beat, next_status, self._stop_deadline)
            flush_job_lines()
            try:
                event = events.get(timeout=max(0.0, wake - now))
            except queue.Empty:
                if batch < inf and flush_at < inf and clock() >= now + IDLE_FLUSH_DELAY:
                    # Idle: write now rather than at the deadline.
                    flush_at, batch = self._flush(try_flush, clock())
                    unwritten = 0
                continue
            run_event(event)
            unwritten += 1
            if flush_at == inf:
                flush_at = clock() + self._flush_delay
        self.log_job_statuses()

    def _flush(self, try_flush: Any, now: float) -> tuple[float, float]:
        """Write the buffered records; when the next write is due, and how many events
        call for one before that (none while the database is unreachable)."""
        if self._write_failed:
            # The run is stopping; the last write is tried at its end.
            return math.inf, FLUSH_BATCH
        try:
            written = try_flush()
            ended = time.monotonic()
            self._write_s = max(ended - now, self._write_s * WRITE_TIME_DECAY)
            self._flush_delay = max(MIN_FLUSH_DELAY, MAX_FLUSH_DELAY - self._write_s)
            if written:
                if self.backend.holds_records:
                    # Rows the store kept back (running jobs) are written at the next write.
                    return ended + self._flush_delay, FLUSH_BATCH
                return math.inf, FLUSH_BATCH
        except Exception as error:
            # Writing is impossible (disk full, read-only, an outage that lasted too long).
            self._write_failed = True
            self._reject_workflow(error)
            return math.inf, FLUSH_BATCH
        # The database is unreachable for now: the records stay buffered.
        return now + WRITE_RETRY_DELAY, math.inf

    def _on_workflow_failed(self, _error: BaseException) -> None:
        if not self.keep_going:
            # redun's behaviour: what runs finishes and is recorded, nothing new starts.
            self._stop(grace=None)

    def _stop(self, grace: float | None) -> None:
        """Start nothing new, drop queued jobs, and give running ones `grace` s (None: all)."""
        if grace is not None:
            self._stop_deadline = min(self._stop_deadline, time.monotonic() + grace)
        if self._stopping:
            return
        self._stopping = True
        for executor in self._started_executors:
            try:
                dropped = executor.cancel_queued()
            except Exception as error:
                self.logger.warning("Executor %s could not cancel jobs: %s", executor.name, error)
                continue
            for job in dropped:
                self._release(job)

    def _on_signal(self, signum: int, count: int) -> None:
        """Signal handler (main thread, between any two bytecodes): only note and post."""
        self._signal_count = count
        self.events_queue.put((self._interrupted, signum, count))

    def _interrupted(self, signum: int, count: int) -> None:
        if count == 1 and self._interrupt is None:
            self._interrupt = SchedulerInterrupted(signum)
            self.log(
                f"{signal_name(signum)}: starting nothing new; waiting up to "
                f"{self.stop_grace:g} s for {self._running} running job(s). "
                "Ctrl+C again to stop at once."
            )
            self._stop(self.stop_grace)
        elif count == 2:
            self._interrupt = self._interrupt or SchedulerInterrupted(signum)
            self.log(f"{signal_name(signum)} again: stopping at once.")
            self._stop(0.0)

    def _stuck_error(self) -> SchedulerError:
        for job, _ in self._limits.waiting:
            needed = job.get_limits()
            capacity = {name: self.limits.get(name, 1) for name in needed}
            return SchedulerError(
                f"Job {job.id[:8]} ({job.task.fullname}) needs limits {needed} but [limits] "
                f"allows {capacity}; raise the capacity in redun.ini or lower the task's limits"
            )
        return SchedulerError(
            "The workflow cannot make progress: no job is running and nothing is left to "
            "evaluate (a scheduler task returned a promise that never settles)"
        )

    def _run_event(self, event: tuple) -> None:
        try:
            event[0](*event[1:])
        except Exception as error:
            # A failure of the scheduler itself (or of a backend write) ends the workflow.
            self._reject_workflow(error)

    def _reject_workflow(self, error: BaseException) -> None:
        """The scheduler itself failed (or cannot record): the run stops."""
        self.log("*** Workflow error")
        if self.traceback is None and not isinstance(error, RedunError):
            # A RedunError's message says what to do; our own frames would not help.
            self.traceback = Traceback.from_error(error, trim_frames=False)
        self._stop(self.stop_grace)
        if self.workflow_promise is not None:
            self.workflow_promise.do_reject(error)

    # -- status ----------------------------------------------------------------

    def get_job_status_report(self) -> list[str]:
        counts: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
        for job in self._jobs:
            counts[job.task.fullname][job.status] += 1
            counts[job.task.fullname]["TOTAL"] += 1
        for task_name, task_counts in self._finalized_jobs.items():
            for status, count in task_counts.items():
                counts[task_name][status] += count
                counts[task_name]["TOTAL"] += count
        return list(format_job_statuses(counts))

    def log_job_statuses(self) -> None:
        self.log()
        for line in self.get_job_status_report():
            self.log(line)
        self.log()

    # -- evaluation --------------------------------------------------------------

    def evaluate(self, expr: Any, parent_job: Job | None = None) -> Promise:
        """A promise of the concrete value of `expr` (for scheduler tasks)."""
        if isinstance(expr, Expression):
            if isinstance(expr, ValueExpression):
                return resolved(expr.value)
            return self._evaluate_apply(expr, parent_job)
        if type(expr) in PLAIN_TYPES:
            return resolved(expr)
        terms: dict[int, Promise] = {}
        for leaf in iter_nested_value(expr):
            if isinstance(leaf, Expression) and id(leaf) not in terms:
                if isinstance(leaf, ValueExpression):
                    terms[id(leaf)] = resolved(leaf.value)
                else:
                    terms[id(leaf)] = self._evaluate_apply(leaf, parent_job)
        if not terms:
            return resolved(expr)

        def substitute(_: Any) -> Any:
            return map_nested_value(
                lambda v: terms[id(v)].value if isinstance(v, Expression) else v, expr
            )

        return Promise.all(list(terms.values())).then(substitute)

    def _evaluate_apply(self, expr: ApplyExpression, parent_job: Job | None) -> Promise:
        """Each expression object is evaluated once per parent job; the start is deferred."""
        if isinstance(parent_job, JobEnv):
            # A one-off view of a job (default arguments): nothing to share with.
            promise = Promise()
            self._ready.append((self._start_apply, expr, parent_job, promise))
            return promise
        pending = self._pending_expr.get(parent_job)
        if pending is None:
            pending = self._pending_expr[parent_job] = {}
        else:
            entry = pending.get(id(expr))
            if entry is not None:
                return entry[0]
        promise: Promise = Promise()
        pending[id(expr)] = (promise, expr)
        self._ready.append((self._start_apply, expr, parent_job, promise))
        return promise

    def _start_apply(self, expr: ApplyExpression, parent_job: Job | None, promise: Promise) -> None:
        try:
            if isinstance(expr, SchedulerExpression):
                self._start_scheduler_expr(expr, parent_job, promise)
            elif isinstance(expr, TaskExpression):
                self._start_task_expr(expr, parent_job, promise)
            elif isinstance(expr, SimpleExpression):
                self._start_simple_expr(expr, parent_job, promise)
            else:
                raise SchedulerError(f"Unknown expression type: {type(expr).__name__}")
        except Exception as error:
            promise.do_reject(error)

    def _start_scheduler_expr(
        self, expr: SchedulerExpression, parent_job: Job | None, promise: Promise
    ) -> None:
        task = self.task_registry.get(expr.task_name)
        if task is None:
            raise TaskNotFoundError(f"Scheduler task '{expr.task_name}' does not exist")
        result = task.func(self, parent_job, expr, *expr.args, **expr.kwargs)
        if isinstance(result, Promise):
            result._listen(promise.do_resolve, promise.do_reject)
        else:
            promise.do_resolve(result)

    def _start_simple_expr(
        self, expr: SimpleExpression, parent_job: Job | None, promise: Promise
    ) -> None:
        func = get_lazy_operation(expr.func_name)
        if func is None:
            raise SchedulerError(f"Expression function '{expr.func_name}' does not exist")

        def apply(eval_args: Any) -> Promise:
            args, kwargs = eval_args
            return self.evaluate(func(*args, **kwargs), parent_job=parent_job)

        self.evaluate((expr.args, expr.kwargs), parent_job).then(apply)._listen(
            promise.do_resolve, promise.do_reject
        )

    def _start_task_expr(
        self, expr: TaskExpression, parent_job: Job | None, promise: Promise
    ) -> None:
        task = self.task_registry.get(expr.task_name)
        if task is None:
            raise TaskNotFoundError(
                f"Task not found in registry: {expr.task_name}. Import the module that defines "
                "it before running (or check the task name)."
            )
        job_options: dict[str, Any] | None = None
        if not self._use_cache:
            job_options = {"cache_scope": CacheScope.CSE}
        if parent_job is not None and not parent_job.recording_provenance():
            job_options = {**(job_options or {}), "prov": False}
        execution = self._current_execution
        job = Job(task, expr, parent_job=parent_job, execution=execution, options=job_options)
        self._jobs.add(job)
        job.result_promise._listen(promise.do_resolve, promise.do_reject)

        raw_options = job.get_raw_options()
        if has_expression(raw_options):
            options_promise = self.evaluate(raw_options, parent_job)
        else:
            options_promise = None
            self._set_job_options(job, raw_options)

        def after_options(options: dict) -> Promise:
            self._set_job_options(job, options)
            return self._evaluate_defaults(job, expr, parent_job)

        if options_promise is None:
            defaults_promise = self._evaluate_defaults(job, expr, parent_job)
        else:
            defaults_promise = options_promise.then(after_options)

        call_args = (expr.args, expr.kwargs)
        if defaults_promise.is_fulfilled and not has_expression(call_args):
            self._exec_job(job, expr.args, {**defaults_promise.value, **expr.kwargs})
            return

        def ready(values: list) -> None:
            (args, kwargs), defaults = values
            self._exec_job(job, args, {**defaults, **kwargs})

        def failed(error: Exception) -> None:
            # The job never started: forget it rather than leave it PENDING.
            self._jobs.discard(job)
            job.result_promise.do_reject(error)

        Promise.all([self.evaluate(call_args, parent_job), defaults_promise]).then(ready, failed)

    def _set_job_options(self, job: Job, options: dict) -> None:
        if not options.get("prov", True) and options.get("cache_scope") != CacheScope.NONE:
            options = {**options, "cache_scope": CacheScope.NONE}
        job.eval_options = options

    def _evaluate_defaults(self, job: Job, expr: TaskExpression, parent_job: Job | None) -> Promise:
        defaults = get_arg_defaults(job.task, expr.args, expr.kwargs)
        if not defaults or not has_expression(defaults):
            return resolved(defaults)
        # Defaults such as get_context(...) see the job's own context.
        return self.evaluate(defaults, parent_job=JobEnv(parent_job, job.get_context()))

    def evaluate_async(self, expr: Any, parent_job: Job) -> Any:
        """Evaluate `expr` for an ``await`` in an async task (called on its loop thread)."""
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(method: str, value: Any) -> None:
            if not future.done():
                getattr(future, method)(value)

        def start() -> None:
            self.evaluate(expr, parent_job=parent_job).then(
                lambda value: loop.call_soon_threadsafe(settle, "set_result", value),
                lambda error: loop.call_soon_threadsafe(settle, "set_exception", error),
            )

        self.events_queue.put((start,))
        return future

    # -- jobs ------------------------------------------------------------------

    def _exec_job(self, job: Job, args: tuple, kwargs: dict) -> None:
        try:
            self._prepare_job(job, args, kwargs)
        except Exception as error:
            self._reject_job_now(job, error)

    def _prepare_job(self, job: Job, eval_args: tuple, eval_kwargs: dict) -> None:
        if self._stopping:
            self._jobs.discard(job)
            return
        job.eval_args = (tuple(eval_args), eval_kwargs)
        plain = job.plain_args = is_plain(job.eval_args)
        if plain:
            job.args = job.eval_args
        else:
            job.args = self._preprocess_args(job, *job.eval_args)
        args, kwargs = job.args
        job.eval_hash, job.args_hash = self._hash_args(job, args, kwargs)
        context = job.get_context()
        if context:
            job.context_hash = self._context_hash(context)
        if not plain:
            job.eval_args = _with_job_info(job, job.eval_args)
            job.args = _with_job_info(job, job.args)

        # One tuple per job, shared by every map keyed by the call.
        key = job.call_key = (job.eval_hash, job.context_hash)
        parent = job.parent_job
        if not isinstance(parent, JobEnv):
            calls = self._child_calls.get(parent)
            if calls is None:
                calls = self._child_calls[parent] = {}
            same_call = calls.get(key)
            if same_call is None:
                calls[key] = job
            elif same_call.eval_options == job.eval_options:
                # redun evaluates each expression once per parent job, whatever its cache
                # scope: the duplicate is neither a job nor a record of its own.
                self._share_call(job, same_call)
                return

        cache_scope = job.cache_scope()
        allowed = job.get_option("allowed_cache_results")
        cse_allowed = cache_scope != CacheScope.NONE and (
            allowed is None or CacheResult.CSE in allowed
        )
        if cse_allowed:
            other = self._pending_jobs.get(key)
            if other is not None:
                self._collapse(job, other)
                return
            hit = self._cse.get(key)
            if hit is not None:
                result, call_hash = hit
                self._cache_hit(job, result, call_hash)
                return
        if cache_scope == CacheScope.BACKEND or self._extending:
            query = self._cache_query(job, cache_scope, allowed)
            if query is not None:
                self._defer_cache_check(job, query)
                return
        elif self._dryrun:
            self._log_cache_miss(job)
        self._launch_job(job)

    def _hash_args(self, job: Job, args: tuple, kwargs: dict) -> tuple[str, str]:
        """(eval_hash, args_hash) as redun computes them; each argument is hashed once.

        The per-argument hashes are kept on the job for its Argument records.
        """
        task = job.task
        get_hash = self.type_registry.get_hash
        pos_hashes = [None if isinstance(v, JobInfo) else get_hash(v) for v in args]
        kw_hashes = {k: None if isinstance(v, JobInfo) else get_hash(v) for k, v in kwargs.items()}
        job.arg_hashes = (args, kwargs, pos_hashes, kw_hashes)
        config_args = task.get_task_option("config_args") or ()
        if config_args or None in pos_hashes or None in kw_hashes.values():
            params = list(task.signature.parameters.values())
            names = [p.name for p in params]
            var_name = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
            kept = [
                h for name, h in zip(names, pos_hashes) if name not in config_args and h is not None
            ]
            if var_name not in config_args:
                kept.extend(h for h in pos_hashes[len(names) :] if h is not None)
            pos_hashes = kept
            kw_hashes = {
                k: h for k, h in kw_hashes.items() if k not in config_args and h is not None
            }
        args_hash = hash_struct(["TaskArguments", pos_hashes, kw_hashes])
        return hash_struct(["Eval", task.hash, args_hash]), args_hash

    def _context_hash(self, context: dict) -> str:
        cached = self._context_hashes.get(id(context))
        if cached is not None and cached[0] is context:
            return cached[1]
        context_hash = self.type_registry.get_hash(context)
        self._context_hashes[id(context)] = (context, context_hash)
        return context_hash

    def _defer_cache_check(self, job: Job, query: CacheQuery) -> None:
        """Queue `job`'s backend lookup: siblings started together share one batch.

        Until its answer, identical calls wait for this job (as for one held
        by a limit), so a batch never runs one call twice.
        """
        self._pending_jobs[job.call_key] = job
        checks = self._cache_checks
        checks.append((job, query))
        if len(checks) >= CACHE_CHECK_BATCH:
            self._check_caches()
        elif not self._cache_check_scheduled:
            # After the ready work queued so far: a fan-out's siblings all join in.
            self._cache_check_scheduled = True
            self._ready.append((self._scheduled_cache_check,))

    def _scheduled_cache_check(self) -> None:
        self._cache_check_scheduled = False
        self._check_caches()

    def _check_caches(self) -> None:
        checks, self._cache_checks = self._cache_checks, []
        if not checks:
            return
        if self._stopping:
            for job, _ in checks:
                self._forget_unstarted(job)
            return
        try:
            hits = self.backend.check_cache_many([query for _, query in checks])
        except Exception as error:
            for job, _ in checks:
                self._reject_job_now(job, error)
            return
        for (job, query), hit in zip(checks, hits):
            try:
                found = self._usable_hit(job, query, hit)
                if found is not None:
                    self._cache_hit(job, *found)
                else:
                    self._launch_job(job)
            except Exception as error:
                self._reject_job_now(job, error)

    def _forget_unstarted(self, job: Job) -> None:
        self._jobs.discard(job)
        key = job.call_key
        if self._pending_jobs.get(key) is job:
            del self._pending_jobs[key]

    def _cache_query(
        self, job: Job, cache_scope: CacheScope, allowed: set | None
    ) -> CacheQuery | None:
        """The backend lookup for `job`, or None when its result is never reused."""
        task = job.task
        check_valid = CacheCheckValid(job.get_option("check_valid", CacheCheckValid.FULL))
        if task.fullname == "redun.script_task":
            # Scripts are re-run unless this execution already ran them (redun's rule).
            return None
        backend_allowed = set(CacheResult) if allowed is None else set(allowed)
        if not self._extending:
            backend_allowed.discard(CacheResult.CSE)
        if task.is_async():
            backend_allowed.discard(CacheResult.SINGLE)
            check_valid = CacheCheckValid.SHALLOW
        return CacheQuery(
            task.fullname,
            task.hash,
            job.args_hash,
            job.eval_hash,
            job.execution.id,
            self.task_registry.task_hashes,
            cache_scope,
            check_valid,
            job.context_hash,
            backend_allowed,
        )

    def _usable_hit(
        self, job: Job, query: CacheQuery, hit: CacheHit
    ) -> tuple[Any, str | None, str | None] | None:
        """(result, call_hash, result_hash) of a usable cache hit, or None."""
        task = job.task
        if hit.kind == CacheResult.MISS:
            if self._dryrun:
                self._log_cache_miss(job, query)
            return None
        if hit.kind == CacheResult.CSE:
            return hit.result, hit.call_hash, hit.value_hash
        if isinstance(hit.result, ErrorValue):
            if self._dryrun:
                self._log_cache_miss(job, query)
            return None
        if self.type_registry.is_valid_nested(hit.result):
            return hit.result, hit.call_hash, hit.value_hash
        from redun.backends.reasons import explain_invalid_result

        reason = explain_invalid_result(task, hit.result, hit.call_hash)
        # redun's line first, then which Files changed.
        prefix = job_action("Miss", job.id)
        self.log(
            prefix + f"Cached result is no longer valid (result={trim_string(repr(hit.result))}, "
            f"eval_hash={job.eval_hash[:8]})."
        )
        if reason.files:
            self.log(" " * len(prefix) + reason.message())
        return None

    def _log_cache_miss(self, job: Job, query: CacheQuery) -> None:
        """Dryrun: say precisely why this job would run (redun explain's reasons)."""
        from redun.backends.reasons import live_call_args

        args, kwargs = job.args
        arguments, params = live_call_args(job.task, args, kwargs, self.type_registry)
        reason = self.backend.explain_cache_miss(query, arguments, params)
        prefix = job_action("Miss", job.id)
        redun_line = reason.redun_message(query.args_hash)
        if redun_line is None:
            self.log(prefix + reason.message())
        else:
            # redun's wording first (scripts read it), then the precise reason.
            self.log(prefix + redun_line)
            self.log(" " * len(prefix) + reason.message())

    def _share_call(self, job: Job, other: Job | FinishedChild) -> None:
        """`job` repeats a call its parent already made: it becomes that call's job."""
        self._jobs.discard(job)
        parent = job.parent_job
        if parent is not None:
            # Not deleted: the siblings after it keep their places (sibling_index).
            parent.child_jobs[job.sibling_index] = SHARED_CALL
        expr = job.expr
        promise = job.result_promise

        def link() -> None:
            # The dataflow of the duplicate's expression leads to the shared call.
            if expr is not None and other.recording_provenance():
                expr.call_hash = other.call_hash

        def done(result: Any) -> None:
            link()
            promise.do_resolve(result)

        def failed(error: Exception) -> None:
            link()
            promise.do_reject(error)

        other.result_promise._listen(done, failed)

    def _collapse(self, job: Job, other: Job) -> None:
        """Common subexpression: `job` takes the result of the identical job `other`."""
        parent = job.parent_job
        if parent is not None:
            parent.child_jobs[job.sibling_index] = other
        job.was_cached = True
        if job.recording_provenance():
            self._recorder.job_start(job, cached=True)

        def done(result: Any) -> None:
            job.call_hash = other.call_hash
            self._done_job_now(job, result)

        def failed(error: Exception) -> None:
            job.call_hash = other.call_hash
            self._reject_job_now(job, error)

        other.result_promise._listen(done, failed)

    def _cache_hit(
        self, job: Job, result: Any, call_hash: str | None, result_hash: str | None = None
    ) -> None:
        job.was_cached = True
        job.call_hash = call_hash
        if self.logger.isEnabledFor(logging.INFO):
            args, kwargs = job.args
            job_line(
                self.logger,
                job_action("Cached", job.id)
                + f"{format_task_call(job.task, args, kwargs)} (eval_hash={job.eval_hash[:8]}"
                f"{', check_valid=shallow' if call_hash else ''}, "
                f"call_hash={call_hash[:8] if call_hash else 'None'})",
            )
        if job.recording_provenance():
            self._recorder.job_start(job, cached=True)
        if isinstance(result, ErrorValue):
            self._reject_job_now(job, result.error, result.traceback)
        else:
            self._done_job_now(job, result, cached_hash=result_hash)

    def _launch_job(self, job: Job) -> None:
        if not self._dryrun:
            args, kwargs = job.args
            if not job.plain_args:
                for value in iter_nested_value((args, kwargs)):
                    if isinstance(value, Handle):
                        self.backend.rollback_handle(value)
            job_limits = job.get_limits()
            if job_limits:
                if not self._limits.fits(job_limits):
                    self._limits.waiting.append((job, None))
                    # Identical calls arriving meanwhile wait for this one.
                    self._pending_jobs[job.call_key] = job
                    return
                self._limits.consume(job_limits)
        self._submit_job(job)

    def _submit_job(self, job: Job) -> None:
        if job.recording_provenance():
            self._recorder.job_start(job, cached=False)
        executor_name = job.get_option("executor") or "default"
        executor = self.executors.get(executor_name)
        error: SchedulerError | None = None
        if executor is None:
            error = SchedulerError(
                f'Unknown executor "{executor_name}"; configured executors: '
                f"{', '.join(sorted(self.executors))}"
            )
        elif job.task.is_async() and not executor.supports_async():
            error = SchedulerError(f'Executor "{executor_name}" does not support async tasks')
        if not self._dryrun:
            # From here the job holds its limits and a running slot until released.
            job.submitted = True
            self._running += 1
        if error is not None:
            self._reject_job_now(job, error)
            return
        if self.logger.isEnabledFor(logging.INFO):
            args, kwargs = job.args
            action = "Dryrun" if self._dryrun else "Run"
            job_line(
                self.logger,
                job_action(action, job.id)
                + f"{format_task_call(job.task, args, kwargs)} on {executor_name}",
            )
        if self._dryrun:
            return
        if not job.plain_args:
            self._warn_about_paths(job)
        self._pending_jobs[job.call_key] = job
        if job.task.fullname == "redun.subrun_root_task":
            # The sub-scheduler (another process) reads this job from the database.
            self.backend.flush()
        self._fire("redun_job_submitted", job=job)
        # A task's own output must not come before its Run line.
        flush_job_lines()
        try:
            if job.task.script:
                executor.submit_script(job)
            else:
                executor.submit(job)
        except Exception as error:
            self._reject_job_now(job, error)

    def _warn_about_paths(self, job: Job) -> None:
        """Once per path: a File or Dir argument that is missing (or not a directory)."""
        for path, problem in path_warnings(job.args):
            if path not in self._warned_paths:
                self._warned_paths.add(path)
                self.logger.warning(
                    f"Job {job.id[:8]} ({job.task.fullname}): {problem} when the task starts: "
                    f"{path}"
                )

    def _release(self, job: Job) -> None:
        """A job that ran is off its executor: free its limits, wake waiting jobs."""
        if not job.submitted:
            return
        job.submitted = False
        self._running -= 1
        job_limits = job.get_limits()
        if job_limits:
            self._limits.release(job_limits)
            for waiting_job, _ in self._limits.pop_ready():
                self._ready.append((self._resume_limited, waiting_job))

    def _resume_limited(self, job: Job) -> None:
        try:
            self._launch_job(job)
        except Exception as error:
            self._reject_job_now(job, error)

    # -- executor callbacks (any thread) -------------------------------------------

    def done_job(
        self, job: Job, result: Any, job_tags: list[tuple[str, Any]] | None = None
    ) -> None:
        """An executor finished `job` with `result` (which may contain more expressions)."""
        if job.execution is not self._current_execution:
            return  # a job of a run that was stopped: nobody waits for it any more
        self.events_queue.put((self._done_job_now, job, result, job_tags))

    def reject_job(
        self,
        job: Job | None,
        error: Any,
        error_traceback: Traceback | None = None,
        job_tags: list[tuple[str, Any]] | None = None,
    ) -> None:
        """An executor failed `job` (None: the whole workflow fails)."""
        if job is not None and job.execution is not self._current_execution:
            return
        self.events_queue.put((self._reject_job_now, job, error, error_traceback, job_tags))

    def add_job_tags(self, job: Job, tags: list[tuple[str, Any]]) -> None:
        self.events_queue.put((self.backend.record_tags, tag_entity("Job"), job.id, list(tags)))

    # -- completion (scheduler thread) ----------------------------------------------

    def _done_job_now(
        self,
        job: Job,
        result: Any,
        job_tags: list[tuple[str, Any]] | None = None,
        cached_hash: str | None = None,
    ) -> None:
        """`cached_hash`: the stored hash of a cached result, which spares hashing it again."""
        self._release(job)
        if job_tags:
            job.job_tags.extend(job_tags)
        result_hash = cached_hash
        try:
            if not job.was_cached:
                if not is_plain(result):
                    result = self._postprocess_result(job, result)
                if job.recording_provenance():
                    # Recording serializes the result once and hashes those bytes.
                    result_hash = self.backend.record_value(result)
                    self.backend.set_eval_cache(
                        job.eval_hash, job.task.hash, job.args_hash, result, result_hash
                    )
            if not has_expression(result):
                # set_eval_cache recorded this very value (when result_hash is known).
                self._resolve_job(
                    job,
                    result,
                    result_hash,
                    recorded=result_hash is not None and not job.was_cached,
                )
                return
        except OpenFileResult as error:
            self._reject_job_now(job, SchedulerError(str(error)))
            return
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            message = (
                f"{job.task.fullname} returned a value that cannot be recorded ({error}); "
                "return picklable values"
            )
            self._reject_job_now(job, SchedulerError(message))
            return
        if self._stopping:
            # Its one-step result is cached; do not start its children.
            self._jobs.discard(job)
            return

        def settled(entry: tuple) -> None:
            # A job whose children are still queued or running (a forked thread)
            # resolves after the work queued so far, so they start while it is open.
            if self._pending_expr.get(job):
                self._ready.append(entry)
            else:
                self._finishing.append(entry)

        def resolved(value: Any) -> None:
            settled((self._resolve_job_event, job, value))

        def failed(error: Exception) -> None:
            settled((self._reject_job_now, job, error))

        self.evaluate(result, parent_job=job).then(resolved, failed)

    def _resolve_job_event(self, job: Job, result: Any) -> None:
        try:
            self._resolve_job(job, result, None)
        except Exception as error:
            self._reject_job_now(job, error)

    def _resolve_job(
        self, job: Job, result: Any, result_hash: str | None, recorded: bool = False
    ) -> None:
        task = job.task
        recording = job.recording_provenance()
        if job.call_hash:
            check_valid = CacheCheckValid(job.get_option("check_valid", CacheCheckValid.FULL))
            if check_valid == CacheCheckValid.FULL or not recording:
                job.calc_subtree_tasks()
            else:
                job.subtree_tasks = set(self.backend.get_subtree_tasks(job.call_hash))
        else:
            children = [child.call_hash for child in job.child_jobs if child.call_hash]
            subtree = job.calc_subtree_tasks()
            if result_hash is None:
                result_hash = self.type_registry.get_hash(result)
            if recording:
                if not recorded:
                    self.backend.record_value(result, result_hash)
                job.call_hash = self._recorder.call_node(job, result_hash, children, subtree)
            else:
                job.call_hash = hash_call_node(task.hash, job.args_hash, result_hash, children)
        if recording:
            self._recorder.job_end(job)
        self._cse.setdefault(job.call_key, (result, job.call_hash))
        self._fire("redun_job_done", job=job, result=result)
        job.resolve(result)
        self._finalize_job(job)

    def _reject_job_now(
        self,
        job: Job | None,
        error: Any,
        error_traceback: Traceback | None = None,
        job_tags: list[tuple[str, Any]] | None = None,
    ) -> None:
        if not isinstance(error, BaseException):
            error = SchedulerError(f"Job failed with a non-exception value: {error!r}")
        try:
            error.redun_traceback = error_traceback
        except (AttributeError, TypeError):
            pass
        if job is None:
            if error_traceback is not None:
                self.traceback = error_traceback
            self._reject_workflow(error)
            return
        if job.submitted:
            self._task_failures += 1
            if isinstance(error, KeyboardInterrupt) and self._interrupt is None:
                # A task's KeyboardInterrupt stops the run as Ctrl-C would.
                self._interrupt = SchedulerInterrupted(
                    message=f"Job {job.id[:8]} ({job.task.fullname}) raised KeyboardInterrupt"
                )
                self._stop(self.stop_grace)
        self._release(job)
        if job_tags:
            job.job_tags.extend(job_tags)
        if job.eval_args is None:
            job.eval_args = ((), {})
        self.log(
            "*** " + job_action("Reject", job.id) + f"{format_task_call(job.task, *job.eval_args)}:"
        )
        if self.use_task_traceback and self.traceback is None:
            user_traceback = error_traceback or Traceback.from_error(error)
            self.traceback = Traceback(
                error, job_frames(job) + user_traceback.frames, logs=user_traceback.logs
            )
        if job.recording_provenance() and job.args_hash is not None:
            children = [child.call_hash for child in job.child_jobs if child.call_hash]
            subtree = job.calc_subtree_tasks()
            error_value, error_hash = self._recorder.error_value(error, error_traceback)
            self.backend.record_value(error_value, error_hash)
            job.call_hash = self._recorder.call_node(job, error_hash, children, subtree)
            self._recorder.job_end(job)
            self._cse.setdefault(job.call_key, (error_value, job.call_hash))
        self._fire("redun_job_failed", job=job, error=error)
        job.reject(error)
        self._finalize_job(job)

    def _finalize_job(self, job: Job) -> None:
        self._jobs.discard(job)
        self._finalized_jobs[job.task.fullname][job.status] += 1
        self._pending_expr.pop(job, None)
        self._child_calls.pop(job, None)
        key = job.call_key
        parent = job.parent_job
        # Evaluating the expression again now makes a job that shares this call
        # (_child_calls), so its entry need not live as long as the parent.
        started = self._pending_expr.get(parent)
        if started is not None:
            started.pop(job.expr_id, None)
        if parent is not None and not parent.keeps_children:
            self._release_child(job, parent, key)
        if self._pending_jobs.get(key) is job:
            del self._pending_jobs[key]

    def _release_child(self, job: Job, parent: Job, key: CallKey) -> None:
        """Leave a FinishedChild where the parent held `job`, so the Job can be freed."""
        siblings = parent.child_jobs
        index = job.sibling_index
        own: FinishedChild | None = None
        if index < len(siblings):
            entry = siblings[index]
            if entry is job:
                own = siblings[index] = FinishedChild(job)
            elif isinstance(entry, Job) and entry._status is not None:
                # A collapsed job's place holds the (ended) job it took its result from.
                siblings[index] = FinishedChild(entry)
        if not isinstance(parent, JobEnv):
            calls = self._child_calls.get(parent)
            if calls is not None and calls.get(key) is job:
                calls[key] = own or FinishedChild(job)

    # -- values around a call ----------------------------------------------------

    def _preprocess_args(self, job: Job, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        registry = self.type_registry
        parent = job.parent_job

        def preprocess(value: Any) -> Any:
            if isinstance(value, Handle):
                if parent is not None:
                    call_order = parent.next_handle_call_order(value.get_hash())
                else:
                    call_order = 0
                forked = registry.preprocess(value, {"call_order": call_order})
                self.backend.advance_handle([value], forked)
                return forked
            if type(value) in PLAIN_TYPES:
                return value
            return registry.preprocess(value, {})

        return map_nested_value(preprocess, (tuple(args), kwargs))

    def _postprocess_result(self, job: Job, result: Any) -> Any:
        registry = self.type_registry
        postprocess_args = {"pre_call_hash": job.eval_hash}

        def postprocess(value: Any) -> Any:
            if type(value) in PLAIN_TYPES:
                return value
            check_result(job.task.fullname, value)
            processed = registry.postprocess(value, postprocess_args)
            if isinstance(value, Handle) and not self._dryrun:
                self.backend.advance_handle([value], processed)
            return processed

        return map_nested_value(postprocess, result)

    # -- helpers for scheduler tasks ---------------------------------------------

    def set_cache(self, eval_hash: str, task_hash: str, args_hash: str, value: Any) -> None:
        self.backend.set_eval_cache(
            eval_hash, task_hash, args_hash, value, self.type_registry.get_hash(value)
        )

    def track_promise(self, promise: Promise) -> str:
        promise_id = str(uuid.uuid4())
        self._tracked_promises[promise_id] = promise
        return promise_id

    def pop_promise(self, promise_id: str) -> Promise | None:
        return self._tracked_promises.pop(promise_id, None)


def _config_int(section: Any, key: str, default: int) -> int:
    raw = section.get(key, default)
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise SchedulerError(f"[scheduler] {key} = {raw!r} is not an integer") from None


def _config_float(section: Any, key: str, default: float) -> float:
    raw = section.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if not value >= 0:
        raise SchedulerError(f"[scheduler] {key} = {raw!r} is not a number of seconds >= 0")
    return value


def _config_bool(section: Any, key: str, default: bool) -> bool:
    raw = str(section.get(key, default)).strip().lower()
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    raise SchedulerError(f"[scheduler] {key} = {raw!r}: use true or false")


def _debugger_active() -> bool:
    """Whether pdb is tracing (status tables would interleave with its prompt)."""
    trace = sys.gettrace()
    if trace is None:
        return False
    import bdb

    return isinstance(getattr(trace, "__self__", None), bdb.Bdb)


def _func_file(func: Any) -> str:
    code = getattr(func, "__code__", None)
    return code.co_filename if code is not None else "?"


def _with_job_info(job: Job, arg_pair: tuple[tuple, dict]) -> tuple[tuple, dict]:
    args, kwargs = arg_pair
    if not any(isinstance(v, JobInfo) for v in chain(args, kwargs.values())):
        return arg_pair
    info = JobInfo.from_job(job)
    return (
        tuple(info if isinstance(v, JobInfo) else v for v in args),
        {k: info if isinstance(v, JobInfo) else v for k, v in kwargs.items()},
    )
