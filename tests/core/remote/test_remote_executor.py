"""RemoteExecutor's shared machinery, on an engine of local processes (no containers).

The full executor conformance suite runs against it, so the core alone proves
retries, timeouts, arrays, cancellation and re-attachment work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redun.executors.base import ExecutorError
from redun.executors.remote import RemoteExecutor
from redun.scheduler import Scheduler
from redun.testing.executor_conformance import ExecutorConformance

from tests.core.remote.process_engine import CLASS_PATH

ROOT = Path(__file__).resolve().parents[3]


class TestProcessEngine(ExecutorConformance):
    job_timeout = 30.0

    @pytest.fixture
    def executor_config(
        self, tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> dict[str, str]:
        # The re-attach test starts a scheduler in a subprocess: it must find the engine.
        monkeypatch.setenv("PYTHONPATH", str(ROOT))
        return {"class": CLASS_PATH, "scratch": str(tmp_path / "scratch")}

    def test_failed_leftover_is_not_reattached(
        self,
        config: dict[str, Any],
        wf: Any,
        shared_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A unit a dead scheduler left behind after it failed is not mistaken for work."""
        from tests.core.remote.process_engine import ProcessEngineExecutor

        attempts = shared_dir / "attempts"
        with monkeypatch.context() as patch:
            patch.setattr(ProcessEngineExecutor, "cleanup", lambda self, unit_id: None)
            with pytest.raises(RuntimeError, match="flaky failure"):
                Scheduler(config=config).run(self.on(wf.flaky)(str(attempts), 1))
        scheduler = Scheduler(config=config)
        assert len(self.running_jobs(scheduler)) == 1
        assert scheduler.run(self.on(wf.flaky)(str(attempts), 1)) == "recovered"
        assert attempts.read_text().split() == ["attempt", "attempt"]


def test_engine_calls_are_required() -> None:
    class Incomplete(RemoteExecutor):
        pass

    with pytest.raises(TypeError, match="submit_command"):
        Incomplete("x", config={"scratch": "/tmp/x"})


def test_missing_image_is_a_one_line_error(tmp_path: Path) -> None:
    from tests.core.remote.process_engine import ProcessEngineExecutor

    class NoImage(ProcessEngineExecutor):
        DEFAULTS = {**ProcessEngineExecutor.DEFAULTS, "image": ""}

    # No code package: from the repository's root it would tar every .py file first.
    executor = NoImage("noimg", config={"scratch": str(tmp_path), "code_package": "false"})
    scheduler = Scheduler(config={"backend": {"db_uri": "sqlite:///:memory:"}}, executor=executor)
    from redun.task import task

    @task(name="needs_image", namespace="remote_test")
    def needs_image() -> int:
        return 1

    with pytest.raises(ExecutorError, match=r"\[executors.noimg\] needs `image`"):
        scheduler.run(needs_image.options(executor="noimg")())


def test_jobs_fail_when_the_engine_stays_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redun.task import task

    from tests.core.remote.process_engine import ProcessEngineExecutor

    class Unreachable(ProcessEngineExecutor):
        POLL_GIVE_UP_SECONDS = 0.3

        def poll(self, remote_ids: list[str]) -> dict:
            raise ConnectionError("engine API down")

    config = {"scratch": str(tmp_path / "scratch"), "code_package": "false"}
    executor = Unreachable("down", config=config)
    scheduler = Scheduler(config={"backend": {"db_uri": "sqlite:///:memory:"}}, executor=executor)

    @task(name="never_polled", namespace="remote_test")
    def never_polled() -> int:
        return 1

    with pytest.raises(ExecutorError, match="could not poll its jobs for 0.3 s: engine API down"):
        scheduler.run(never_polled.options(executor="down")())


def engine_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scheduler:
    from tests.core.remote.engine_tasks import EngineExecutor

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    config = {"scratch": str(tmp_path / "scratch"), "code_package": "false"}
    executor = EngineExecutor("engine", config=config)
    return Scheduler(config={"backend": {"db_uri": "sqlite:///:memory:"}}, executor=executor)


def test_engine_retries_are_not_repeated_by_the_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.core.remote.engine_tasks import engine_flaky

    scheduler = engine_scheduler(tmp_path, monkeypatch)
    path = str(tmp_path / "recovers")
    assert scheduler.run(engine_flaky.options(executor="engine", retries=2)(path)) == "third time"
    attempts = tmp_path / "attempts"
    with pytest.raises(RuntimeError, match="attempt 2 fails"):
        scheduler.run(engine_flaky.options(executor="engine", retries=1)(str(attempts)))
    # The engine made both attempts; the executor submitted once and did not retry.
    assert attempts.read_text().split() == ["attempt", "attempt"]


def test_engine_timeout_is_reported_as_the_timeout_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from redun.executors.remote import RemoteJobTimeoutError

    from tests.core.remote.engine_tasks import engine_sleeper

    started = time.monotonic()
    scheduler = engine_scheduler(tmp_path, monkeypatch)
    with pytest.raises(RemoteJobTimeoutError, match="exceeded its timeout of 1 s"):
        scheduler.run(engine_sleeper.options(executor="engine", timeout=1)(60))
    # The engine's deadline ended it, well before the executor's own grace ran out.
    assert time.monotonic() - started < 20


def test_engine_time_limit_without_timeout_names_the_engine_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limit only the engine knows (a batch walltime) is still the timeout error."""
    from redun.executors.remote import RemoteJobTimeoutError, RemoteSpec

    from tests.core.remote.engine_tasks import EngineExecutor, engine_sleeper

    class WalltimeEngine(EngineExecutor):
        def submit_command(self, spec: RemoteSpec) -> str:
            spec.timeout = 1  # the engine's own walltime; the executor was given none
            return super().submit_command(spec)

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    config = {"scratch": str(tmp_path / "scratch"), "code_package": "false"}
    executor = WalltimeEngine("engine", config=config)
    scheduler = Scheduler(config={"backend": {"db_uri": "sqlite:///:memory:"}}, executor=executor)
    with pytest.raises(RemoteJobTimeoutError, match=r"exceeded its time limit \(deadline\)$"):
        scheduler.run(engine_sleeper.options(executor="engine")(60))


def test_an_engine_may_run_jobs_without_an_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.core.remote.engine_tasks import engine_sleeper
    from tests.core.remote.process_engine import ProcessEngineExecutor

    images: list[str] = []

    class Direct(ProcessEngineExecutor):
        DEFAULTS = {**ProcessEngineExecutor.DEFAULTS, "image": ""}
        requires_image = False

        def submit_command(self, spec):  # type: ignore[no-untyped-def]
            images.append(spec.image)
            return super().submit_command(spec)

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    executor = Direct("direct", config={"scratch": str(tmp_path), "code_package": "false"})
    scheduler = Scheduler(config={"backend": {"db_uri": "sqlite:///:memory:"}}, executor=executor)
    assert scheduler.run(engine_sleeper.options(executor="direct")(0)) == "woke"
    assert images == [""]


def test_relative_scratch_is_under_the_repository_the_scheduler_hands_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redun.config import load_config

    config_dir = tmp_path / "repo" / ".redun"
    config_dir.mkdir(parents=True)
    (config_dir / "redun.ini").write_text(
        f"[executors.far]\nclass = {CLASS_PATH}\nscratch = work/scratch\n"
    )
    monkeypatch.chdir(tmp_path)
    scheduler = Scheduler(config=load_config(config_dir))
    executor = scheduler.executors["far"]
    assert executor.config_dir == str(config_dir)
    assert executor.scratch_root() == str(config_dir / "work" / "scratch")


def test_ctrl_c_drops_jobs_not_yet_submitted_to_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs held for an array (or queued for submission) never reach the engine after Ctrl-C."""
    import os
    import signal
    import threading
    import time

    from redun.task import task

    from tests.core.remote.process_engine import ProcessEngineExecutor

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    config = {
        "scratch": str(tmp_path / "scratch"),
        "code_package": "false",
        "min_array_size": "2",
        "job_stale_time": "30",
    }
    executor = ProcessEngineExecutor("engine", config=config)
    scheduler = Scheduler(
        config={"backend": {"db_uri": "sqlite:///:memory:"}, "scheduler": {"stop_grace": "20"}}
    )
    scheduler.add_executor(executor)

    @task(name="held", namespace="remote_test")
    def held(i: int) -> int:
        return i

    @task(name="fan", namespace="remote_test")
    def fan() -> list:
        return [held.options(executor="engine")(i) for i in range(3)]

    def ctrl_c() -> None:
        if scheduler.is_running:
            os.kill(os.getpid(), signal.SIGINT)

    from tests.helpers.signals import keyboard_interrupts

    timer = threading.Timer(1.0, ctrl_c)
    timer.start()
    started = time.monotonic()
    try:
        with keyboard_interrupts(), pytest.raises(KeyboardInterrupt):
            scheduler.run(fan())
    finally:
        timer.cancel()
    # The three jobs were dropped at once: no stop grace spent waiting for them.
    assert time.monotonic() - started < 10
    assert not list(executor.engine_dir.glob("*.json")), "a job reached the engine"
