import logging
import threading
from pathlib import Path

import pytest
import redun
from redun import Scheduler, task
from redun.plugins import hookimpl
from redun.plugins.manager import get_plugin_manager

from tests.core.engine.helpers import log_lines, memory_config

redun_namespace = "events_test"


@task
def ok(x: int) -> int:
    return x


@task
def bad() -> None:
    raise KeyError("bad")


class Listener:
    def __init__(self) -> None:
        self.events: list = []
        self.threads: set = set()

    def _seen(self, *event) -> None:
        self.events.append(event)
        self.threads.add(threading.get_ident())

    @hookimpl
    def redun_execution_started(self, scheduler, execution):
        self._seen("started", execution.id)

    @hookimpl
    def redun_job_submitted(self, scheduler, job):
        self._seen("submitted", job.task.fullname)

    @hookimpl
    def redun_job_done(self, scheduler, job, result):
        self._seen("done", job.task.fullname, result, job.was_cached)

    @hookimpl
    def redun_job_failed(self, scheduler, job, error):
        self._seen("failed", job.task.fullname, type(error).__name__)

    @hookimpl
    def redun_execution_finished(self, scheduler, execution, status):
        self._seen("finished", status)


def test_event_hooks_fire_on_the_scheduler_thread():
    listener = Listener()
    get_plugin_manager().register_plugin(listener, "listener", "tests", "0")
    scheduler = Scheduler(config=memory_config())
    scheduler.run(ok(1))
    scheduler.run(ok(1))
    with pytest.raises(KeyError):
        scheduler.run(bad())
    names = [event[0] for event in listener.events]
    assert names == [
        "started",
        "submitted",
        "done",
        "finished",
        "started",
        "done",
        "finished",
        "started",
        "submitted",
        "failed",
        "finished",
    ]
    assert listener.events[2] == ("done", "events_test.ok", 1, False)
    assert listener.events[5] == ("done", "events_test.ok", 1, True)
    assert listener.events[9] == ("failed", "events_test.bad", "KeyError")
    assert listener.events[-1] == ("finished", "FAILED")
    assert listener.threads == {threading.get_ident()}


def test_a_failing_listener_does_not_break_the_run(redun_log):
    class Broken:
        @hookimpl
        def redun_job_done(self, scheduler, job, result):
            raise RuntimeError("listener bug")

    manager = get_plugin_manager()
    manager.register_plugin(Broken(), "broken", "tests", "0")
    manager.strict = False  # the tests run strict, where a failing listener fails the run
    assert Scheduler(config=memory_config()).run(ok(2)) == 2
    assert any("redun_job_done failed" in line for line in log_lines(redun_log))


def test_scheduler_setup_hook_runs_at_construction():
    class Setup:
        @hookimpl
        def redun_scheduler_setup(self, scheduler):
            scheduler.limits["gpu"] = 4

    get_plugin_manager().register_plugin(Setup(), "setup", "tests", "0")
    assert Scheduler(config=memory_config()).limits["gpu"] == 4


def test_scheduler_without_config_uses_the_repository_found_from_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".redun").mkdir()
    (tmp_path / ".redun" / "redun.ini").write_text("[backend]\ndb_uri = sqlite:///redun.db\n")
    scheduler = Scheduler()
    assert scheduler.run(ok(3)) == 3
    assert (tmp_path / ".redun" / "redun.db").exists()


def test_scheduler_without_any_repository_warns_once(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.WARNING, logger="redun")
    scheduler = Scheduler()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "results will not be cached across runs" in warnings[0]
    assert scheduler.run(ok(4)) == 4


def test_redun_run_reuses_one_scheduler_per_config_dir(tmp_path):
    config_dir = tmp_path / "repo"
    config_dir.mkdir()
    (config_dir / "setup.py").write_text(
        "from redun import Scheduler\n\n"
        "def make(config):\n"
        "    scheduler = Scheduler(config=config)\n"
        "    scheduler.limits['made_by_setup'] = 1\n"
        "    return scheduler\n"
    )
    (config_dir / "redun.ini").write_text(
        "[backend]\ndb_uri = sqlite:///redun.db\n[scheduler]\nsetup_scheduler = setup.py::make\n"
    )
    assert redun.run(ok(5), config_dir=str(config_dir)) == 5
    assert redun.run(ok(6), config_dir=str(config_dir)) == 6
    scheduler = redun._run_schedulers[str(config_dir)]
    assert scheduler.limits["made_by_setup"] == 1
    assert (config_dir / "redun.db").exists()


def test_pytest_fixture_gives_an_in_memory_scheduler(pytestconfig):
    from redun.pytest import scheduler as fixture

    scheduler = fixture.__wrapped__()
    assert scheduler.run(ok(7)) == 7
    assert Path(scheduler.config["backend"]["db_uri"].removeprefix("sqlite:///")).name == ":memory:"


def test_import_redun_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, redun\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'pluggy')"
        " or m in ('redun.plugins.manager', 'redun.backends.db')]\n"
        "print(heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert output.stdout.strip() == "[]", output.stderr


def test_bad_scheduler_settings_are_one_line_errors():
    from redun.scheduler import SchedulerError

    with pytest.raises(SchedulerError, match=r"\[scheduler\] job_status_interval = 'soon'"):
        Scheduler(config=memory_config(scheduler={"job_status_interval": "soon"}))
    assert (
        Scheduler(config=memory_config(scheduler={"job_status_interval": "0"})).job_status_interval
        is None
    )
