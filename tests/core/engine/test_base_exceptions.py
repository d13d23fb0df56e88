"""Tasks raising BaseExceptions that are not Exceptions: the job fails, the run never hangs.

SystemExit and other BaseExceptions fail their job like any error (independent
jobs still finish); KeyboardInterrupt in a task stops the run as Ctrl-C would.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import pytest
from redun import Scheduler
from redun.executors.base import ExecutorError

from tests.core.engine import process_tasks
from tests.core.engine.helpers import memory_config

MODES = ["thread", "process"]


def make_scheduler(mode: str) -> Scheduler:
    return Scheduler(
        config=memory_config(
            scheduler={"stop_grace": "1"},
            **{"executors.default": {"type": "local", "mode": mode, "max_workers": "2"}},
        )
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind, raised", [("exit", SystemExit), ("abort", process_tasks.Abort)])
def test_base_exception_fails_the_job(mode: str, kind: str, raised: type) -> None:
    scheduler = make_scheduler(mode)
    with pytest.raises(raised):
        scheduler.run(process_tasks.fan_with_base(kind, 4))
    table = [line.split() for line in scheduler.get_job_status_report()]
    rows = {cells[1]: cells[2:] for cells in table if len(cells) == 8}
    # PENDING RUNNING FAILED CACHED DONE TOTAL: the job failed, the others ran to completion.
    assert rows["process_test.raise_base"] == ["0", "0", "1", "0", "0", "1"]
    assert rows["process_test.slow_ok"] == ["0", "0", "0", "0", "4", "4"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", MODES)
def test_keyboard_interrupt_in_a_task_stops_the_run(mode: str) -> None:
    scheduler = make_scheduler(mode)
    with pytest.raises(KeyboardInterrupt):
        scheduler.run(process_tasks.fan_with_base("interrupt", 40))


@pytest.mark.timeout(60)
def test_base_exception_in_an_async_task_fails_the_job() -> None:
    import asyncio

    from redun import task

    @task(namespace="base_exc_test", cache=False)
    async def exits() -> None:
        await asyncio.sleep(0)
        raise SystemExit(4)

    with pytest.raises(SystemExit):
        make_scheduler("thread").run(exits())


def status_rows(scheduler: Scheduler) -> dict[str, list[str]]:
    table = [line.split() for line in scheduler.get_job_status_report()]
    return {cells[1]: cells[2:] for cells in table if len(cells) == 8}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("workflow", ["die_beside", "fan_with"])
def test_a_worker_process_dying_fails_its_job_alone(workflow: str) -> None:
    # The pool's own clean-up could wait forever on a worker started as it broke:
    # a few runs in a row, so that race shows up if it is still there.
    for _ in range(3):
        scheduler = make_scheduler("process")
        expr = (
            process_tasks.die_beside(4)
            if workflow == "die_beside"
            else process_tasks.fan_with("die_abruptly", 4)
        )
        with pytest.raises(BrokenProcessPool, match="running this job .* exited with code 7"):
            scheduler.run(expr)
        rows = status_rows(scheduler)
        assert rows["process_test.die_abruptly"] == ["0", "0", "1", "0", "0", "1"]
        # The jobs running or waiting beside it, and those that came later, all ran.
        assert rows["process_test.slow_ok"] == ["0", "0", "0", "0", "4", "4"]


@pytest.mark.timeout(60)
def test_an_error_that_cannot_travel_back_from_a_worker_fails_its_job() -> None:
    scheduler = make_scheduler("process")
    with pytest.raises(
        ExecutorError, match=r"process_tasks\.Picky: picky: cannot be rebuilt.*cannot be sent back"
    ):
        scheduler.run(process_tasks.fan_with("raise_picky", 4))
    rows = status_rows(scheduler)
    assert rows["process_test.raise_picky"] == ["0", "0", "1", "0", "0", "1"]
    assert rows["process_test.slow_ok"] == ["0", "0", "0", "0", "4", "4"]
