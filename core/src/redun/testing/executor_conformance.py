"""A conformance suite for executors, for plugin authors to subclass.

Each test runs a real workflow through a real `Scheduler` whose jobs go to
the executor under test (configured as ``[executors.conformance]``)::

    from redun.testing.executor_conformance import ExecutorConformance

    class TestMyExecutor(ExecutorConformance):
        @pytest.fixture
        def executor_config(self, tmp_path, shared_dir):
            return {"type": "my_engine", "scratch": str(tmp_path / "scratch")}

Jobs record what they did (calls, attempts, start markers) in `shared_dir`,
which the executor must make visible to its jobs at the same path (a
container executor mounts it).

The workflow module is written into a fresh directory that becomes the
current directory, as a user's workflow would be, so remote executors ship it
with their code package. Capabilities a given executor cannot have (the local
executor cannot re-attach to a previous process's threads) are switched off
with the class attributes below; the tests they guard are then skipped with
the reason.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from redun.scheduler import Scheduler

EXECUTOR = "conformance"
MODULE = "redun_conformance_workflow"

WORKFLOW = '''
"""Tasks the executor conformance suite runs (written by redun.testing)."""
import os
import time

from redun.task import task

redun_namespace = "conformance"


def _append(path, line):
    with open(path, "a") as out:
        out.write(line + "\\n")


def _count(path):
    if not os.path.exists(path):
        return 0
    with open(path) as infile:
        return len(infile.read().splitlines())


@task
def add(a, b=0):
    return a + b


@task
def counted(x, path):
    _append(path, "run")
    return x * 2


@task
def fail(message):
    print("conformance log line before failing", flush=True)
    raise ValueError(message)


@task
def plus_one_later(a):
    return add(a, 1)


@task
def slow(seconds, marker):
    _append(marker, "started")
    time.sleep(seconds)
    return "slept"


@task
def flaky(path, failures):
    _append(path, "attempt")
    if _count(path) <= failures:
        raise RuntimeError("flaky failure")
    return "recovered"


@task(script=True)
def echo(text):
    return "echo " + text
'''

RUNNER = """
import sys
sys.path.insert(0, {workdir!r})
from redun.scheduler import Scheduler
import {module} as wf
scheduler = Scheduler(config={config!r})
print(scheduler.run(wf.slow.options(executor={executor!r})({seconds!r}, {marker!r})))
"""


def script_stdout(result: Any) -> bytes:
    """A script task's stdout: local executors return it, remote ones ``[0, stdout]``."""
    if isinstance(result, (list, tuple)) and len(result) == 2 and result[0] == 0:
        return result[1]
    return result


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


class ExecutorConformance:
    """What every executor must do; subclass and define `executor_config`."""

    supports_cancel = True
    supports_reattach = True
    supports_arrays = True
    supports_retries = True
    supports_timeout = True
    attaches_logs = True
    # Seconds a short job may take end to end (container start-up, polling).
    job_timeout = 60.0

    @pytest.fixture
    def executor_config(self, tmp_path: Path, shared_dir: Path) -> dict[str, str]:
        """The ``[executors.conformance]`` section for the executor under test."""
        pytest.fail(f"{type(self).__name__} must define the `executor_config` fixture")

    @pytest.fixture
    def shared_dir(self, tmp_path: Path) -> Path:
        """A directory jobs write to and the test reads, at the same path for both."""
        shared = tmp_path / "shared"
        shared.mkdir()
        return shared

    def running_jobs(self, scheduler: Scheduler) -> list[str]:
        """Engine ids of this executor's jobs still alive (cancellation check)."""
        executor = scheduler.executors[EXECUTOR]
        list_jobs = getattr(executor, "list_jobs", None)
        return list(list_jobs()) if list_jobs is not None else []

    # -- fixtures ---------------------------------------------------------------------

    @pytest.fixture
    def workdir(
        self, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[Path]:
        workdir = tmp_path_factory.mktemp("workflow")
        (workdir / f"{MODULE}.py").write_text(WORKFLOW)
        monkeypatch.chdir(workdir)
        monkeypatch.syspath_prepend(str(workdir))
        yield workdir

    @pytest.fixture
    def wf(self, workdir: Path) -> Any:
        """The workflow module, imported once per process (tasks register once)."""
        module = sys.modules.get(MODULE)
        if module is None:
            module = importlib.import_module(MODULE)
        return module

    @pytest.fixture
    def config(self, tmp_path: Path, executor_config: dict[str, str]) -> dict[str, Any]:
        return {
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
            f"executors.{EXECUTOR}": dict(executor_config),
        }

    @pytest.fixture
    def scheduler(self, config: dict[str, Any]) -> Scheduler:
        return Scheduler(config=config)

    def on(self, task: Any, **options: Any) -> Any:
        return task.options(executor=EXECUTOR, **options)

    # -- tests ------------------------------------------------------------------------

    def test_result(self, scheduler: Scheduler, wf: Any) -> None:
        assert scheduler.run(self.on(wf.add)(1, 2)) == 3
        assert scheduler.run([self.on(wf.add)(i, b=10) for i in range(4)]) == [10, 11, 12, 13]

    def test_returned_expression_is_evaluated(self, scheduler: Scheduler, wf: Any) -> None:
        assert scheduler.run(self.on(wf.plus_one_later)(41)) == 42

    def test_error(self, scheduler: Scheduler, wf: Any) -> None:
        with pytest.raises(ValueError, match="conformance failure"):
            scheduler.run(self.on(wf.fail)("conformance failure"))
        traceback = scheduler.traceback
        assert traceback is not None
        assert any(frame.name == "fail" for frame in traceback.frames)
        if self.attaches_logs:
            assert any("conformance log line" in line for line in traceback.logs)

    def test_script(self, scheduler: Scheduler, wf: Any) -> None:
        result = scheduler.run(self.on(wf.echo)("conformance"))
        assert script_stdout(result) == b"conformance\n"

    def test_cache_across_runs(self, config: dict[str, Any], wf: Any, shared_dir: Path) -> None:
        calls = shared_dir / "calls"
        assert Scheduler(config=config).run(self.on(wf.counted)(4, str(calls))) == 8
        assert Scheduler(config=config).run(self.on(wf.counted)(4, str(calls))) == 8
        assert line_count(calls) == 1

    def test_array(self, executor_config: dict[str, str], wf: Any, tmp_path: Path) -> None:
        if not self.supports_arrays:
            pytest.skip(f"{type(self).__name__} has no array jobs")
        section = {**executor_config, "min_array_size": "3", "job_stale_time": "1.0"}
        config = {
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
            f"executors.{EXECUTOR}": section,
        }
        scheduler = Scheduler(config=config)
        assert scheduler.run([self.on(wf.add)(i, b=i) for i in range(5)]) == [0, 2, 4, 6, 8]
        scratch = Path(scheduler.executors[EXECUTOR].scratch_root())
        # Normally one array of 5; a slow machine may split the group in time.
        sizes = [len((d / "eval_hashes").read_text().split()) for d in scratch.glob("array_jobs/*")]
        assert sizes and max(sizes) >= 3 and sum(sizes) <= 5

    def test_retries(self, scheduler: Scheduler, wf: Any, shared_dir: Path) -> None:
        if not self.supports_retries:
            pytest.skip(f"{type(self).__name__} does not retry jobs")
        attempts = shared_dir / "attempts"
        assert scheduler.run(self.on(wf.flaky, retries=1)(str(attempts), 1)) == "recovered"
        assert line_count(attempts) == 2

    def test_timeout(self, scheduler: Scheduler, wf: Any, shared_dir: Path) -> None:
        if not self.supports_timeout:
            pytest.skip(f"{type(self).__name__} has no job timeouts")
        started = time.monotonic()
        with pytest.raises(Exception, match="timeout"):
            scheduler.run(self.on(wf.slow, timeout=1)(120, str(shared_dir / "marker")))
        assert time.monotonic() - started < self.job_timeout
        assert self.running_jobs(scheduler) == []

    def test_cancel_on_interrupt(self, scheduler: Scheduler, wf: Any, shared_dir: Path) -> None:
        """Ctrl-C while a job runs stops the run and leaves no job running."""
        if not self.supports_cancel:
            pytest.skip(f"{type(self).__name__} cannot cancel running jobs")
        if threading.current_thread() is not threading.main_thread():
            pytest.skip("SIGINT reaches only the main thread")
        marker = shared_dir / "marker"

        def interrupt_when_started() -> None:
            wait_for(marker.exists, self.job_timeout, "the job to start")
            os.kill(os.getpid(), signal.SIGINT)

        # The test's own Ctrl-C handling: a runner started in the background inherits
        # SIGINT ignored, and the signal would then never arrive.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        thread = threading.Thread(target=interrupt_when_started, daemon=True)
        thread.start()
        try:
            with pytest.raises((SystemExit, KeyboardInterrupt)):
                scheduler.run(self.on(wf.slow)(120, str(marker)))
        finally:
            signal.signal(signal.SIGINT, previous)
        thread.join()
        assert self.running_jobs(scheduler) == []

    def test_reattach_after_restart(
        self, config: dict[str, Any], wf: Any, workdir: Path, shared_dir: Path
    ) -> None:
        """A job still running when its scheduler died is followed, not run again."""
        if not self.supports_reattach:
            pytest.skip(f"{type(self).__name__} cannot re-attach to a previous process's jobs")
        marker = shared_dir / "marker"
        runner = RUNNER.format(
            workdir=str(workdir),
            module=MODULE,
            config=config,
            executor=EXECUTOR,
            seconds=3,
            marker=str(marker),
        )
        first = subprocess.Popen([sys.executable, "-c", runner], cwd=workdir)
        try:
            wait_for(marker.exists, self.job_timeout, "the first scheduler's job to start")
        finally:
            first.kill()
            first.wait()
        scheduler = Scheduler(config=config)
        assert scheduler.run(self.on(wf.slow)(3, str(marker))) == "slept"
        assert line_count(marker) == 1
        assert self.running_jobs(scheduler) == []
