"""Batch jobs of one task into array submissions (also importable as ``redun.job_array``).

Engines charge per submission (API calls, container start-up, queue slots),
so many small jobs of one task are cheaper as one array job. Jobs are grouped
by task and options; a group is submitted once no job joined it for
``stale_time`` seconds. Groups of at least ``min_array_size`` jobs become
arrays (split at ``max_array_size``); smaller ones are submitted one by one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redun.scheduler import Job

MAX_ARRAY_SIZE = 10000
# Where array engines put a worker's index: AWS Batch, Kubernetes Indexed Jobs, GCP Batch.
AWS_ARRAY_VAR = "AWS_BATCH_JOB_ARRAY_INDEX"
K8S_ARRAY_VAR = "JOB_COMPLETION_INDEX"
GCP_ARRAY_VAR = "BATCH_TASK_INDEX"
ARRAY_INDEX_VARS = (AWS_ARRAY_VAR, K8S_ARRAY_VAR, GCP_ARRAY_VAR)


def get_job_array_index(
    env: Mapping[str, str] = os.environ, env_var: str | None = None
) -> int | None:
    """This worker's index in its array job (from `env_var`, else the engines' variables).

    None outside an array job; a value that is not an integer is a ValueError.
    """
    for name in (env_var,) if env_var else ARRAY_INDEX_VARS:
        if name in env:
            return int(env[name])
    return None


class JobDescription:
    """What jobs must share to be one array submission: the task and its options."""

    def __init__(self, job: Job) -> None:
        self.task_name = job.task.fullname
        self.options = job.get_options()
        self.key = (
            self.task_name,
            repr(sorted((str(key), repr(value)) for key, value in self.options.items())),
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, JobDescription) and self.key == other.key

    def __repr__(self) -> str:
        return f"JobDescription({self.task_name}, options={self.options!r})"


class JobArrayer:
    """Collects jobs on a monitor thread and hands them out as arrays or singles."""

    def __init__(
        self,
        submit_single: Callable[[Job], None],
        submit_array: Callable[[list[Job]], None],
        on_error: Callable[[list[Job], Exception], None],
        stale_time: float = 3.0,
        min_array_size: int = 5,
        max_array_size: int = 1000,
    ) -> None:
        if min_array_size < 0 or max_array_size < 1:
            raise ValueError("min_array_size must be >= 0 and max_array_size >= 1")
        self.submit_single = submit_single
        self.submit_array = submit_array
        self.on_error = on_error
        self.stale_time = stale_time
        self.min_array_size = min_array_size
        self.max_array_size = min(max_array_size, MAX_ARRAY_SIZE)
        self._groups: dict[JobDescription, list[Job]] = {}
        self._last_added: dict[JobDescription, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.min_array_size > 0

    def add_job(self, job: Job) -> None:
        key = JobDescription(job)
        with self._lock:
            self._groups.setdefault(key, []).append(job)
            self._last_added[key] = time.monotonic()
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._monitor, name="redun-job-arrayer", daemon=True
                )
                self._thread.start()

    def pending(self) -> list[Job]:
        with self._lock:
            return [job for jobs in self._groups.values() for job in jobs]

    def stop(self) -> list[Job]:
        """Stop the monitor; the jobs never submitted are returned."""
        with self._lock:
            self._stopping = True
            thread, self._thread = self._thread, None
            dropped = [job for jobs in self._groups.values() for job in jobs]
            self._groups.clear()
            self._last_added.clear()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._wake.clear()
        return dropped

    def _monitor(self) -> None:
        tick = max(self.stale_time / 4, 0.01)
        while True:
            self._wake.wait(tick)
            with self._lock:
                if self._stopping:
                    return
                now = time.monotonic()
                stale = [
                    key for key, added in self._last_added.items() if now - added >= self.stale_time
                ]
                batches = [self._groups.pop(key) for key in stale]
                for key in stale:
                    del self._last_added[key]
            for jobs in batches:
                self._flush(jobs)

    def _flush(self, jobs: list[Job]) -> None:
        for start in range(0, len(jobs), self.max_array_size):
            chunk = jobs[start : start + self.max_array_size]
            if len(chunk) >= self.min_array_size and len(chunk) > 1:
                try:
                    self.submit_array(chunk)
                except Exception as error:
                    self.on_error(chunk, error)
                continue
            for job in chunk:
                try:
                    self.submit_single(job)
                except Exception as error:
                    self.on_error([job], error)
