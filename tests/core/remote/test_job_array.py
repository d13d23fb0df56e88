"""JobArrayer: grouping by task and options, array/single split, staleness."""

from __future__ import annotations

import threading
import time

import pytest
from redun.executors.job_array import JobArrayer, JobDescription
from redun.scheduler import Job
from redun.task import task


@task(name="array_a", namespace="arraytest")
def array_a(x: int) -> int:
    return x


@task(name="array_b", namespace="arraytest")
def array_b(x: int) -> int:
    return x


class Recorder:
    def __init__(self) -> None:
        self.singles: list[Job] = []
        self.arrays: list[list[Job]] = []
        self.errors: list[tuple[list[Job], Exception]] = []
        self.done = threading.Event()

    def single(self, job: Job) -> None:
        self.singles.append(job)

    def array(self, jobs: list[Job]) -> None:
        self.arrays.append(jobs)

    def error(self, jobs: list[Job], error: Exception) -> None:
        self.errors.append((jobs, error))


def wait_until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def make_arrayer(recorder: Recorder, **kwargs: int | float) -> JobArrayer:
    return JobArrayer(recorder.single, recorder.array, recorder.error, **kwargs)


def test_groups_by_task_and_options() -> None:
    job1, job2 = Job(array_a, None), Job(array_a, None)
    assert JobDescription(job1) == JobDescription(job2)
    assert JobDescription(Job(array_b, None)) != JobDescription(job1)
    other = Job(array_a.options(memory=8), None)
    assert JobDescription(other) != JobDescription(job1)


def test_big_groups_become_arrays_split_at_max_and_small_go_single() -> None:
    recorder = Recorder()
    arrayer = make_arrayer(recorder, stale_time=0.05, min_array_size=3, max_array_size=4)
    jobs_a = [Job(array_a, None) for _ in range(7)]
    jobs_b = [Job(array_b, None) for _ in range(2)]
    for job in jobs_a + jobs_b:
        arrayer.add_job(job)
    wait_until(lambda: len(recorder.singles) == 2 and len(recorder.arrays) == 2)
    arrayer.stop()
    assert recorder.arrays == [jobs_a[:4], jobs_a[4:]]
    assert recorder.singles == jobs_b


def test_waits_until_the_group_is_stale_and_stop_returns_pending() -> None:
    recorder = Recorder()
    arrayer = make_arrayer(recorder, stale_time=30, min_array_size=2)
    job = Job(array_a, None)
    arrayer.add_job(job)
    time.sleep(0.1)
    assert recorder.singles == [] and recorder.arrays == []
    assert arrayer.pending() == [job]
    assert arrayer.stop() == [job]
    assert arrayer.pending() == []


def test_submission_errors_reach_only_the_failed_jobs() -> None:
    recorder = Recorder()
    failing = Job(array_b, None)

    def single(job: Job) -> None:
        if job is failing:
            raise RuntimeError("engine refused")
        recorder.single(job)

    arrayer = JobArrayer(single, recorder.array, recorder.error, stale_time=0.05, min_array_size=5)
    ok = Job(array_a, None)
    arrayer.add_job(ok)
    arrayer.add_job(failing)
    wait_until(lambda: len(recorder.errors) == 1 and len(recorder.singles) == 1)
    arrayer.stop()
    assert recorder.errors[0][0] == [failing]
    assert recorder.singles == [ok]


def test_disabled_with_zero_min_and_bad_sizes_rejected() -> None:
    recorder = Recorder()
    assert not make_arrayer(recorder, min_array_size=0).enabled
    assert make_arrayer(recorder, min_array_size=2, max_array_size=10**6).max_array_size == 10000
    with pytest.raises(ValueError, match="min_array_size"):
        make_arrayer(recorder, min_array_size=-1)
