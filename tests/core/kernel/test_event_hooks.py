"""Event and scheduler hooks fire on the scheduler thread with the right records."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from redun import Scheduler, task
from redun.config import Config
from redun.plugins import hookimpl
from redun.plugins.manager import get_plugin_manager

redun_namespace = "test_event_hooks"


@task()
def double(x: int) -> int:
    return 2 * x


@task()
def explode(x: int) -> int:
    raise ValueError(f"bad {x}")


@task()
def fan(n: int) -> list:
    return [double(i) for i in range(n)]


@task()
def fan_with_failure() -> list:
    return [double(1), explode(2)]


class Recorder:
    """A plugin that records every event with the thread it arrived on."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, int]] = []

    def _add(self, name: str, payload: Any) -> None:
        self.events.append((name, payload, threading.get_ident()))

    @hookimpl
    def redun_scheduler_setup(self, scheduler: Scheduler) -> None:
        scheduler.limits["from_plugin"] = 7
        self._add("setup", scheduler)

    @hookimpl
    def redun_execution_started(self, scheduler: Scheduler, execution: Any) -> None:
        self._add("started", execution.id)

    @hookimpl
    def redun_job_submitted(self, scheduler: Scheduler, job: Any) -> None:
        self._add("submitted", job.task.name)

    @hookimpl
    def redun_job_done(self, scheduler: Scheduler, job: Any, result: Any) -> None:
        self._add("done", (job.task.name, result))

    @hookimpl
    def redun_job_failed(self, scheduler: Scheduler, job: Any, error: BaseException) -> None:
        self._add("failed", (job.task.name, str(error)))

    @hookimpl
    def redun_execution_finished(self, scheduler: Scheduler, execution: Any, status: str) -> None:
        self._add("finished", (execution.id, status))

    def names(self, kind: str) -> list[Any]:
        return [payload for name, payload, _ in self.events if name == kind]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    plugin = Recorder()
    get_plugin_manager().register_plugin(plugin, "recorder", "recorder-dist", "1.0")
    yield plugin
    get_plugin_manager().unregister_plugin("recorder")


@pytest.fixture
def scheduler() -> Scheduler:
    scheduler = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))
    scheduler.load()
    return scheduler


def test_hook_redun_scheduler_setup_runs_at_construction(recorder: Recorder) -> None:
    scheduler = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))
    assert recorder.names("setup") == [scheduler]
    assert scheduler.limits["from_plugin"] == 7


def test_hook_redun_execution_started_fires_first(recorder: Recorder, scheduler: Scheduler) -> None:
    assert scheduler.run(fan(2)) == [0, 2]
    started = recorder.names("started")
    assert len(started) == 1
    kinds = [name for name, _, _ in recorder.events if name != "setup"]
    assert kinds[0] == "started"


def test_hook_redun_execution_finished_fires_last_with_status(
    recorder: Recorder, scheduler: Scheduler
) -> None:
    scheduler.run(fan(2))
    started = recorder.names("started")
    assert recorder.names("finished") == [(started[0], "DONE")]
    kinds = [name for name, _, _ in recorder.events if name != "setup"]
    assert kinds[-1] == "finished"


def test_hook_redun_job_submitted_and_done_on_the_scheduler_thread(
    recorder: Recorder, scheduler: Scheduler
) -> None:
    scheduler.run(fan(3))
    assert sorted(recorder.names("submitted")) == ["double", "double", "double", "fan"]
    done = recorder.names("done")
    assert sorted(r for name, r in done if name == "double") == [0, 2, 4]
    assert ("fan", [0, 2, 4]) in done
    threads = {thread for name, _, thread in recorder.events if name not in ("setup",)}
    assert threads == {threading.get_ident()}, "events must arrive on the scheduler thread"


def test_hook_redun_job_done_for_cached_jobs_without_submission(
    recorder: Recorder, scheduler: Scheduler
) -> None:
    scheduler.run(fan(2))
    recorder.events.clear()
    scheduler.run(fan(2))
    assert recorder.names("submitted") == []
    assert sorted(name for name, _ in recorder.names("done")) == ["double", "double", "fan"]


def test_hook_redun_job_failed_and_failed_execution(
    recorder: Recorder, scheduler: Scheduler
) -> None:
    with pytest.raises(ValueError, match="bad 2"):
        scheduler.run(fan_with_failure())
    assert ("explode", "bad 2") in recorder.names("failed")
    assert recorder.names("finished")[0][1] == "FAILED"


def test_events_cost_nothing_without_listeners(scheduler: Scheduler) -> None:
    manager = get_plugin_manager()
    assert not manager.has_listeners("redun_job_done")
    called: list[str] = []
    undo = manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: called.append(name), lambda *args: None
    )
    try:
        scheduler.run(fan(2))
    finally:
        undo()
    assert not [name for name in called if name.startswith(("redun_job", "redun_execution"))]
