"""The base of every executor that runs jobs as commands on a remote engine.

A plugin (docker, AWS Batch, Kubernetes, ...) implements five engine calls:
`submit_command`, `poll`, `cancel`, `logs` and `list_jobs`. Everything else
is shared here: code packaging, scratch files, ``redun oneshot`` and script
command lines, per-task resources, array batching, retries, timeouts,
re-attaching to jobs still running after a scheduler restart, cancelling
in-flight jobs when the run is interrupted, and attaching logs of failed jobs
to their traceback.
"""

from __future__ import annotations

import abc
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from redun.executors import scratch
from redun.executors.base import Executor, ExecutorError
from redun.executors.code_packaging import package_code, parse_code_package_config
from redun.executors.command import get_oneshot_command, get_script_task_command
from redun.executors.job_array import JobArrayer

if TYPE_CHECKING:
    from redun.scheduler import Job, Scheduler

# Labels every submitted unit carries, so a restarted scheduler can find its jobs.
LABEL_EXECUTOR = "redun.executor"
LABEL_EVAL_HASH = "redun.eval_hash"
LABEL_JOB_ID = "redun.job_id"
LABEL_TASK = "redun.task"
LABEL_EXECUTION = "redun.execution_id"
LABEL_ARRAY = "redun.array_uuid"
# Units write results under their scratch: only units of this scratch can be followed.
LABEL_SCRATCH = "redun.scratch"

# Set in each worker of an array whose engine has no native arrays.
ARRAY_INDEX_ENV = "REDUN_ARRAY_INDEX"
LOG_TAIL_LINES = 100


class RemoteState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class RemoteStatus:
    """What `poll` reports for one submitted unit; `reason` explains a failure."""

    state: RemoteState
    reason: str = ""
    # The engine stopped the unit for exceeding its timeout (e.g. a deadline it enforces).
    timed_out: bool = False

    @property
    def finished(self) -> bool:
        return self.state in (RemoteState.SUCCEEDED, RemoteState.FAILED)


@dataclass
class RemoteSpec:
    """Everything a plugin needs to start one unit of work."""

    name: str
    command: list[str]
    image: str
    vcpus: float
    memory: float  # GB
    gpus: int
    env: dict[str, str]
    labels: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    # Retries the engine should make itself when the executor sets `engine_retries`.
    retries: int = 0
    # For arrays: labels of each index (its job's eval_hash and id).
    array_labels: list[dict[str, str]] = field(default_factory=list)


class RemoteJobTimeoutError(ExecutorError):
    """A remote job ran longer than its ``timeout`` and was cancelled."""


class RemoteJobError(ExecutorError):
    """A remote job failed without leaving an error of its own (killed, bad image)."""


@dataclass
class _Tracked:
    job: Job
    remote_id: str
    attempt: int
    started: float
    timeout: float | None


def _number(value: Any, key: str, where: str, kind: type = float) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ExecutorError(f"{where}: {key} = {value!r} is not a number") from None


class RemoteExecutor(Executor, abc.ABC):
    """Shared machinery of remote executors; subclasses talk to one engine."""

    # Defaults a subclass may change; a config section and task options override them.
    DEFAULTS: Mapping[str, str] = {
        "image": "",
        "vcpus": "1",
        "memory": "4",
        "gpus": "0",
        "retries": "0",
        "timeout": "",
        "job_monitor_interval": "1.0",
        "job_stale_time": "3.0",
        "min_array_size": "0",
        "max_array_size": "1000",
        "submit_workers": "4",
    }
    # How long the engine may stay unreachable before its jobs are failed.
    POLL_GIVE_UP_SECONDS = 60.0
    # Engines that retry failed units themselves (`spec.retries`) set this; the
    # base then reports their final failure instead of submitting again.
    engine_retries = False
    # Seconds past a job's timeout before the base cancels it itself. Engines that
    # enforce `spec.timeout` (and report `timed_out`) set a margin so theirs wins.
    timeout_grace = 0.0
    # Where an array worker finds its index: engines with native arrays name their variable.
    array_index_env = ARRAY_INDEX_ENV
    # Raised for a job that exceeded its timeout; plugins may name their own subclass.
    timeout_error: type[ExecutorError] = RemoteJobTimeoutError
    # The variable holding an array worker's index: engines with native arrays
    # name their own (AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX, ...).
    array_index_env = ARRAY_INDEX_ENV
    # Container engines need an image; batch schedulers (SLURM) may run the
    # command directly on a node, and then `spec.image` is "".
    requires_image = True
    # Keys of [executors.NAME] every remote executor accepts.
    COMMON_CONFIG_KEYS: tuple[str, ...] = (
        *DEFAULTS,
        "scratch",
        "env",
        "code_package",
        "code_includes",
        "code_excludes",
    )

    def __init__(
        self,
        name: str,
        scheduler: Scheduler | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name, scheduler=scheduler, config=config)
        self.section = f"executors.{name}"
        self.settings: dict[str, str] = {**self.DEFAULTS, **dict(self.config)}
        raw_scratch = self.settings.get("scratch", "")
        if not raw_scratch:
            raise ExecutorError(f"[{self.section}] needs `scratch` (a directory or URL)")
        self.scratch_prefix = self._resolve_scratch(raw_scratch)
        self.code_config = parse_code_package_config(self.settings, self.section)
        self.interval = _number(
            self.settings["job_monitor_interval"], "job_monitor_interval", self.section
        )
        self.env = self._parse_json(self.settings.get("env") or "{}", "env", dict)
        self.default_retries = _number(self.settings["retries"], "retries", self.section, int)
        try:
            self.arrayer = JobArrayer(
                self._submit_single,
                self._submit_array,
                self._reject_all,
                stale_time=_number(self.settings["job_stale_time"], "job_stale_time", self.section),
                min_array_size=_number(
                    self.settings["min_array_size"], "min_array_size", self.section, int
                ),
                max_array_size=_number(
                    self.settings["max_array_size"], "max_array_size", self.section, int
                ),
            )
        except ValueError as error:
            raise ExecutorError(f"[{self.section}] {error}") from None
        self.code_file: str | None = None
        self._prepared = False
        self._inflight: dict[str, str] = {}  # eval_hash -> remote id found at start
        self._tracked: dict[str, _Tracked] = {}  # remote id -> job
        self._job_envs: dict[str, dict[str, str]] = {}
        self._lock = threading.RLock()
        self._stop_monitor = threading.Event()
        self._monitor_thread: threading.Thread | None = None
        # Engine calls take a while (a `docker run` ~0.2 s): submit off the scheduler thread.
        self.submit_workers = _number(
            self.settings["submit_workers"], "submit_workers", self.section, int
        )
        if self.submit_workers < 1:
            raise ExecutorError(f"[{self.section}] submit_workers must be at least 1")
        self._submitter: ThreadPoolExecutor | None = None
        # Submissions waiting for a submitter thread, so a stopping run can drop them.
        self._queued: dict[Future, Job] = {}

    # -- engine calls a plugin implements -------------------------------------------

    @abc.abstractmethod
    def submit_command(self, spec: RemoteSpec) -> str:
        """Start `spec.command` on the engine; return the engine's id for it."""

    @abc.abstractmethod
    def poll(self, remote_ids: list[str]) -> dict[str, RemoteStatus]:
        """Current status of each id; an id missing from the answer is gone (failed)."""

    @abc.abstractmethod
    def cancel(self, remote_ids: list[str]) -> None:
        """Stop these units; they need not report a status afterwards."""

    def logs(self, remote_id: str, tail: int = LOG_TAIL_LINES) -> list[str]:
        """The last `tail` lines of a unit's output, each ending in a newline."""
        return []

    def list_jobs(self) -> dict[str, dict[str, str]]:
        """Units of this executor the engine still knows about: id -> labels."""
        return {}

    def cleanup(self, remote_id: str) -> None:
        """Release what a finished unit holds on the engine (e.g. a stopped container)."""

    def can_array(self, job: Job) -> bool:
        """Whether `job` may share an array submission (script tasks never do)."""
        return not job.task.script

    def job_tags(self, remote_id: str) -> list[tuple[str, str]]:
        """Tags recorded on a finished job, naming its unit (e.g. the engine's job id)."""
        return []

    def submit_array_command(self, spec: RemoteSpec, size: int) -> list[str]:
        """Start `size` copies of `spec.command`; one id per index, in index order.

        Engines without native arrays get one unit per index, each told its
        index in ``$REDUN_ARRAY_INDEX``; engines with arrays override this.
        """
        ids = []
        for index in range(size):
            indexed = RemoteSpec(
                name=f"{spec.name}-{index}",
                command=spec.command,
                image=spec.image,
                vcpus=spec.vcpus,
                memory=spec.memory,
                gpus=spec.gpus,
                env={**spec.env, ARRAY_INDEX_ENV: str(index)},
                labels={**spec.labels, **spec.array_labels[index]},
                options=spec.options,
                timeout=spec.timeout,
                retries=spec.retries,
            )
            ids.append(self.submit_command(indexed))
        return ids

    # -- configuration ---------------------------------------------------------------

    def _resolve_scratch(self, raw: str) -> str:
        if scratch.is_url(raw) or os.path.isabs(raw):
            return raw.rstrip("/")
        return os.path.abspath(os.path.join(self.config_dir or ".", raw))

    def _parse_json(self, raw: str, key: str, kind: type) -> Any:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ExecutorError(f"[{self.section}] {key} is not valid JSON: {error}") from None
        if not isinstance(value, kind):
            raise ExecutorError(f"[{self.section}] {key} must be a JSON {kind.__name__}")
        return value

    def scratch_root(self) -> str:
        return self.scratch_prefix

    def job_setting(self, job: Job, key: str) -> Any:
        """A task option if the job sets it, else the executor's config or default."""
        return job.get_option(key, self.settings.get(key))

    def _timeout(self, job: Job) -> float | None:
        raw = self.job_setting(job, "timeout")
        if raw in (None, ""):
            return None
        timeout = _number(raw, "timeout", f"task {job.task.fullname}")
        return timeout if timeout > 0 else None

    def _retries(self, job: Job) -> int:
        where = f"task {job.task.fullname}"
        return _number(job.get_option("retries", self.default_retries), "retries", where, int)

    def build_spec(self, job: Job, command: list[str], name: str) -> RemoteSpec:
        where = f"task {job.task.fullname} on executor {self.name}"
        image = self.job_setting(job, "image") or ""
        if not image and self.requires_image:
            raise ExecutorError(f"[{self.section}] needs `image` (or the task option image=)")
        env = {**self.env, **self._job_envs.get(job.id, {})}
        env.update({str(k): str(v) for k, v in (job.get_option("env") or {}).items()})
        return RemoteSpec(
            name=name,
            command=command,
            image=str(image),
            vcpus=_number(self.job_setting(job, "vcpus"), "vcpus", where),
            memory=_number(self.job_setting(job, "memory"), "memory", where),
            gpus=_number(self.job_setting(job, "gpus"), "gpus", where, int),
            env=env,
            labels={
                LABEL_EXECUTOR: self.name,
                LABEL_SCRATCH: self.scratch_prefix,
                LABEL_EVAL_HASH: job.eval_hash or "",
                LABEL_JOB_ID: job.id,
                LABEL_TASK: job.task.fullname,
                LABEL_EXECUTION: job.execution.id if job.execution else "",
            },
            options=dict(job.get_options()),
            timeout=self._timeout(job),
            retries=self._retries(job),
        )

    # -- lifecycle ---------------------------------------------------------------------

    def _prepare(self) -> None:
        """Once per run, on the first job: upload the code, find jobs still running."""
        with self._lock:
            if self._prepared:
                return
            self.code_file = package_code(self.scratch_prefix, self.code_config)
            candidates = {
                remote_id: labels[LABEL_EVAL_HASH]
                for remote_id, labels in self.list_jobs().items()
                if labels.get(LABEL_EXECUTOR) == self.name
                and labels.get(LABEL_SCRATCH) == self.scratch_prefix
                and labels.get(LABEL_EVAL_HASH)
            }
            # A unit that already failed is a past attempt, not work to wait for.
            statuses = self.poll(list(candidates)) if candidates else {}
            self._inflight = {
                eval_hash: remote_id
                for remote_id, eval_hash in candidates.items()
                if remote_id in statuses and statuses[remote_id].state != RemoteState.FAILED
            }
            self._prepared = True

    def _ensure_monitor(self) -> None:
        with self._lock:
            if self._monitor_thread is None:
                self._stop_monitor.clear()
                self._monitor_thread = threading.Thread(
                    target=self._monitor, name=f"redun-{self.name}-monitor", daemon=True
                )
                self._monitor_thread.start()

    def stop(self) -> None:
        """End of a run: anything still in flight was interrupted (Ctrl-C), so cancel it."""
        leftover = self.detach()
        if leftover:
            self.log(f"Cancelling {len(leftover)} job(s) still running")
            self.cancel(leftover)
            for remote_id in leftover:
                self.cleanup(remote_id)

    def detach(self) -> list[str]:
        """Stop following the submitted jobs (leaving them running); their engine ids."""
        self.arrayer.stop()
        with self._lock:
            submitter, self._submitter = self._submitter, None
        if submitter is not None:
            # Submissions under way finish first, so none escapes the list returned.
            submitter.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            thread, self._monitor_thread = self._monitor_thread, None
            self._stop_monitor.set()
            detached = list(self._tracked)
            self._tracked.clear()
            self._job_envs.clear()
            self._prepared = False
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        return detached

    def running_ids(self) -> list[str]:
        with self._lock:
            return list(self._tracked)

    # -- submission (scheduler thread) ------------------------------------------------

    def submit(self, job: Job) -> None:
        self._accept(job)

    def submit_script(self, job: Job) -> None:
        self._accept(job)

    def submit_detached(self, job: Job) -> str:
        """Start `job` without following it (``redun launch``); its engine id."""
        self._collect_env(job)
        command = self._command(job)
        try:
            return self.submit_command(self.build_spec(job, command, f"redun-{job.id[:8]}-1"))
        finally:
            with self._lock:
                self._job_envs.pop(job.id, None)

    def _collect_env(self, job: Job) -> None:
        """Ask plugins (``redun_job_env``) for the job's env, on the scheduler thread."""
        from redun.plugins.manager import get_plugin_manager

        env: dict[str, str] = {}
        for extra in get_plugin_manager().hook.redun_job_env(job=job, executor=self):
            env.update(extra or {})
        with self._lock:
            self._job_envs[job.id] = env

    def _accept(self, job: Job) -> None:
        self._prepare()
        if self._reattach(job):
            return
        self._collect_env(job)
        if self.arrayer.enabled and self.can_array(job):
            self.arrayer.add_job(job)
            return
        with self._lock:
            if self._submitter is None:
                self._submitter = ThreadPoolExecutor(
                    self.submit_workers, thread_name_prefix=f"redun-{self.name}-submit"
                )
            submitter = self._submitter
            future = submitter.submit(self._submit_or_reject, job)
            self._queued[future] = job
        future.add_done_callback(self._submitted)

    def _submitted(self, future: Future) -> None:
        with self._lock:
            self._queued.pop(future, None)

    def cancel_queued(self) -> list[Job]:
        """A stopping run: jobs not handed to the engine yet never are (arrays included)."""
        dropped = self.arrayer.stop()
        with self._lock:
            queued = list(self._queued.items())
        dropped.extend(job for future, job in queued if future.cancel())
        return dropped

    def _submit_or_reject(self, job: Job) -> None:
        try:
            self._submit_single(job)
        except Exception as error:
            self._reject_all([job], error)

    def _reattach(self, job: Job) -> bool:
        """Follow a unit a previous scheduler started for this eval_hash, if still known."""
        from redun.cache import CacheScope

        with self._lock:
            remote_id = self._inflight.pop(job.eval_hash or "", None)
        if remote_id is None or job.cache_scope() != CacheScope.BACKEND:
            return False
        self.log(f"Reattach Job {job.id[:8]} ({job.task.fullname}) to {remote_id[:12]}")
        self._track(job, remote_id, attempt=1)
        return True

    def _track(self, job: Job, remote_id: str, attempt: int) -> None:
        with self._lock:
            self._tracked[remote_id] = _Tracked(
                job, remote_id, attempt, time.monotonic(), self._timeout(job)
            )
        self._ensure_monitor()

    def _command(self, job: Job, array_uuid: str | None = None) -> list[str]:
        if job.task.script:
            from redun.scripting import prepare_command

            args, kwargs = job.args or ((), {})
            script = prepare_command(job.task.func(*args, **kwargs))
            return get_script_task_command(self.scratch_prefix, job, script)
        return get_oneshot_command(
            self.scratch_prefix,
            job,
            code_file=self.code_file,
            array_uuid=array_uuid,
            array_rank_env=self.array_index_env if array_uuid else None,
        )

    def _submit_single(self, job: Job, attempt: int = 1) -> None:
        command = self._command(job)
        spec = self.build_spec(job, command, f"redun-{job.id[:8]}-{attempt}")
        remote_id = self.submit_command(spec)
        self._track(job, remote_id, attempt)

    def _submit_array(self, jobs: list[Job]) -> None:
        array_uuid = str(uuid.uuid4())
        prefix = self.scratch_prefix

        def job_file(job: Job, name: str) -> str:
            return scratch.get_job_scratch_file(prefix, job, name)

        from redun.utils import pickle_dumps

        all_args = [job.args or ((), {}) for job in jobs]
        inputs = [[list(args) for args, _ in all_args], [kwargs for _, kwargs in all_args]]
        for name, data in (
            (scratch.SCRATCH_INPUT, pickle_dumps(inputs)),
            (scratch.SCRATCH_OUTPUT, json.dumps([job_file(j, "output") for j in jobs]).encode()),
            (scratch.SCRATCH_ERROR, json.dumps([job_file(j, "error") for j in jobs]).encode()),
            (scratch.SCRATCH_HASHES, "\n".join(j.eval_hash or "" for j in jobs).encode()),
        ):
            scratch.write_bytes(scratch.get_array_scratch_file(prefix, array_uuid, name), data)
        lead = jobs[0]
        command = self._command(lead, array_uuid=array_uuid)
        spec = self.build_spec(lead, command, f"redun-array-{array_uuid[:8]}")
        spec.labels[LABEL_ARRAY] = array_uuid
        spec.array_labels = [
            {LABEL_EVAL_HASH: job.eval_hash or "", LABEL_JOB_ID: job.id} for job in jobs
        ]
        self.log(f"Submit array of {len(jobs)} {lead.task.fullname} jobs ({array_uuid[:8]})")
        remote_ids = self.submit_array_command(spec, len(jobs))
        for job, remote_id in zip(jobs, remote_ids):
            self._track(job, remote_id, attempt=1)

    def _reject_all(self, jobs: list[Job], error: Exception) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            return
        for job in jobs:
            scheduler.reject_job(job, error)

    # -- monitoring (monitor thread) -----------------------------------------------------

    def _monitor(self) -> None:
        failing_since: float | None = None
        while not self._stop_monitor.wait(self.interval):
            try:
                self._poll_once()
                failing_since = None
            except Exception as error:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since < self.POLL_GIVE_UP_SECONDS:
                    self.log(f"Monitoring failed, will retry: {error!r}")
                    continue
                # The engine stays unreachable: fail the jobs rather than wait forever.
                with self._lock:
                    lost = list(self._tracked.values())
                    self._tracked.clear()
                try:
                    self.cancel([entry.remote_id for entry in lost])
                except Exception as cancel_error:
                    self.log(f"Could not cancel the unreachable jobs: {cancel_error!r}")
                self._reject_all(
                    [entry.job for entry in lost],
                    ExecutorError(
                        f"Executor {self.name!r} could not poll its jobs for "
                        f"{self.POLL_GIVE_UP_SECONDS:g} s: {error}"
                    ),
                )
                failing_since = None

    def _poll_once(self) -> None:
        with self._lock:
            tracked = list(self._tracked.values())
        if not tracked:
            return
        statuses = self.poll([entry.remote_id for entry in tracked])
        now = time.monotonic()
        for entry in tracked:
            status = statuses.get(entry.remote_id)
            if status is None:
                status = RemoteStatus(RemoteState.FAILED, "the job disappeared from the engine")
            if status.finished:
                self._finish(entry, status)
            elif (
                entry.timeout is not None
                and now - entry.started > entry.timeout + self.timeout_grace
            ):
                self.cancel([entry.remote_id])
                self._fail(entry, self._timeout_error(entry), None)

    def _timeout_error(self, entry: _Tracked, reason: str = "") -> ExecutorError:
        """The timeout error; `reason` is the engine's word when it enforced a limit itself."""
        what = f"Job {entry.job.id[:8]} ({entry.job.task.fullname})"
        if entry.timeout is not None:
            message = f"{what} exceeded its timeout of {entry.timeout:g} s and was cancelled"
        else:
            # A limit only the engine knows (e.g. a batch system's walltime).
            message = f"{what} exceeded its time limit"
        return self.timeout_error(f"{message} ({reason})" if reason else message)

    def _finish(self, entry: _Tracked, status: RemoteStatus) -> None:
        job = entry.job
        if status.state == RemoteState.SUCCEEDED:
            try:
                ok = not job.task.script or (
                    scratch.read_job_status(self.scratch_prefix, job) == scratch.STATUS_OK
                )
                result, found = scratch.parse_job_result(self.scratch_prefix, job)
            except scratch.ScratchError as error:
                self._fail(entry, error, None)
                return
            if ok and found:
                tags = self.job_tags(entry.remote_id)
                self._untrack(entry)
                self._scheduler_or_fail().done_job(job, result, job_tags=tags)
                return
        if status.timed_out:
            self._fail(entry, self._timeout_error(entry, status.reason), None)
            return
        error, traceback = scratch.parse_job_error(self.scratch_prefix, job)
        if isinstance(error, scratch.ExceptionNotFoundError) and status.reason:
            error = RemoteJobError(
                f"Job {job.id[:8]} ({job.task.fullname}) failed: {status.reason}"
            )
            traceback = None
        self._fail(entry, error, traceback)

    def _fail(self, entry: _Tracked, error: BaseException, traceback: Any) -> None:
        from redun.tracebacks import Traceback

        job = entry.job
        logs = self.logs(entry.remote_id)
        tags = self.job_tags(entry.remote_id)
        self._untrack(entry, forget_env=False)
        retries = 0 if self.engine_retries else self._retries(job)
        if entry.attempt <= retries:
            self.log(
                f"Retry Job {job.id[:8]} ({job.task.fullname}) after attempt "
                f"{entry.attempt}/{retries + 1}: {error}"
            )
            try:
                self._submit_single(job, attempt=entry.attempt + 1)
                return
            except Exception as submit_error:
                error, traceback = submit_error, None
        with self._lock:
            self._job_envs.pop(job.id, None)
        if traceback is None:
            traceback = Traceback.from_error(error)
        traceback.logs = logs
        self._scheduler_or_fail().reject_job(job, error, error_traceback=traceback, job_tags=tags)

    def _untrack(self, entry: _Tracked, forget_env: bool = True) -> None:
        with self._lock:
            self._tracked.pop(entry.remote_id, None)
            if forget_env:
                self._job_envs.pop(entry.job.id, None)
        self.cleanup(entry.remote_id)

    def _scheduler_or_fail(self) -> Scheduler:
        if self._scheduler is None:
            raise ExecutorError(f"Executor {self.name!r} has no scheduler")
        return self._scheduler
