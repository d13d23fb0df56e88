"""Repos filled by really running the workflows in `workflows.py` with the engine."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from redun import Scheduler, task
from redun.backends.db import RedunBackendDb
from redun.config import Config

from tests.plugins.console import workflows as wf

WORKFLOWS = Path(wf.__file__)
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Repo:
    """A repo and the ids of what was run in it, by a name the tests use."""

    db_uri: str
    path: Path
    executions: dict[str, str] = field(default_factory=dict)

    def backend(self) -> RedunBackendDb:
        backend = RedunBackendDb(db_uri=self.db_uri)
        backend.load()
        return backend


def scheduler_for(db_uri: str) -> Scheduler:
    return Scheduler(config=Config({"backend": {"db_uri": db_uri, "automigrate": "true"}}))


def latest_execution_id(db_uri: str) -> str:
    from redun_console.resolve import latest_execution

    backend = RedunBackendDb(db_uri=db_uri)
    backend.load()
    try:
        return latest_execution(backend.reader())
    finally:
        backend.close()


def run(repo: Repo, name: str, expr: object, argv: list[str], **kwargs: object) -> None:
    scheduler = scheduler_for(repo.db_uri)
    try:
        scheduler.run(expr, exec_argv=argv, **kwargs)
    except ValueError:
        pass  # the failing workflow: its failure is what gets recorded
    finally:
        scheduler.backend.close()
    repo.executions[name] = latest_execution_id(repo.db_uri)


def build_repo(path: Path, db_uri: str | None = None) -> Repo:
    """Succeeded, cached, partly cached, failed, File, wide, two task versions, running."""
    repo = Repo(db_uri or f"sqlite:///{path / 'redun.db'}", path)
    redun = ["redun", "run", "workflows.py"]
    run(repo, "done", wf.main(3), [*redun, "main"], tags=[("env", "prod")])
    run(repo, "cached", wf.main(3), [*redun, "main"], tags=[("env", "dev")])
    run(repo, "more", wf.main(4), [*redun, "main", "--n", "4"])
    run(repo, "failed", wf.failing(2), [*redun, "failing"])
    run(repo, "files", wf.files(str(path / "words.txt")), [*redun, "files"])
    run(repo, "wide", wf.wide(), [*redun, "wide"])
    run(repo, "greet1", greet_version(1)("ada"), [*redun, "greet"])
    run(repo, "greet2", greet_version(2)("ada"), [*redun, "greet"])
    repo.executions["running"] = run_crashing(repo)
    forget_heartbeat(repo, repo.executions["running"])
    return repo


def run_crashing(repo: Repo) -> str:
    """A scheduler process that dies mid-job (`workflows.py`): its execution's id."""
    subprocess.run(
        [sys.executable, str(WORKFLOWS), repo.db_uri],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=60,
    )
    return latest_execution_id(repo.db_uri)


def forget_heartbeat(repo: Repo, execution_id: str) -> None:
    """Stays RUNNING however long the tests take: an execution without a heartbeat (as
    redun 0.44.1 leaves one) is never taken for a dead one (see redun.backends.db.status)."""
    from redun.backends.db import schema
    from sqlalchemy import update

    backend = repo.backend()
    try:
        with backend.engine.begin() as connection:
            connection.execute(
                update(schema.execution)
                .where(schema.execution.c.id == execution_id)
                .values(updated_time=None)
            )
    finally:
        backend.close()


def greet_version(version: int) -> object:
    """Register version 1 or 2 of task `greet` (the latest registration is what runs)."""

    def greet_v1(name: str) -> str:
        return f"hello {name}"

    def greet_v2(name: str) -> str:
        return f"good day, {name}!"

    func = greet_v1 if version == 1 else greet_v2
    return task(name="greet", namespace="console_test", version=str(version))(func)
