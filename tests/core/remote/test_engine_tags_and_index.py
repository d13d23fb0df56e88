"""RemoteExecutor: engine-named array index variables and tags naming a job's unit."""

from __future__ import annotations

from pathlib import Path

import pytest
from redun.scheduler import Scheduler

from tests.core.remote.named_index_engine import NamedIndexEngine, broken, double

ROOT = Path(__file__).resolve().parents[3]


def make_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scheduler:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    config = {
        "scratch": str(tmp_path / "scratch"),
        "code_package": "false",
        "min_array_size": "3",
        "job_stale_time": "0.2",
    }
    db = f"sqlite:///{tmp_path / 'redun.db'}"
    scheduler = Scheduler(config={"backend": {"db_uri": db}})
    scheduler.add_executor(NamedIndexEngine("engine", config=config))
    return scheduler


def test_array_workers_read_the_engine_named_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler = make_scheduler(tmp_path, monkeypatch)
    assert scheduler.run([double.options(executor="engine")(i) for i in range(4)]) == [0, 2, 4, 6]
    arrays = list((tmp_path / "scratch" / "array_jobs").iterdir())
    assert len(arrays) == 1


def test_job_tags_of_the_unit_are_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = make_scheduler(tmp_path, monkeypatch)
    assert scheduler.run(double.options(executor="engine")(21)) == 42
    with pytest.raises(ValueError, match="broken on the engine"):
        scheduler.run(broken.options(executor="engine")())
    jobs = [job for job in scheduler.backend.session.query(_job_model()).all()]
    tags = scheduler.backend.get_tags([job.id for job in jobs])
    units = {key: value for job in jobs for key, value in tags.get(job.id, [])}
    assert "engine_unit" in units
    assert sum(1 for job in jobs if any(k == "engine_unit" for k, _ in tags.get(job.id, []))) == 2


def _job_model():
    from redun.backends.db import Job

    return Job
