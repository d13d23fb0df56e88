"""no_prov(): a sub-workflow without provenance, fast-forwarded as a whole next time."""

from __future__ import annotations

from pathlib import Path

from redun import Scheduler, task
from redun.backends.db.models import CallNode, Job
from redun.config import Config
from redun.functools import no_prov

redun_namespace = "test_no_prov"

calls: list[int] = []


@task()
def add(a: int, b: int) -> int:
    calls.append(a)
    return a + b


@task()
def main(n: int) -> int:
    return no_prov(add(n, 2))


def make_scheduler(path: Path) -> Scheduler:
    scheduler = Scheduler(config=Config({"backend": {"db_uri": f"sqlite:///{path}"}}))
    scheduler.load()
    return scheduler


def test_no_prov_records_only_the_outer_call_and_reuses_it(tmp_path: Path) -> None:
    calls.clear()
    db = tmp_path / "repo.db"
    assert make_scheduler(db).run(main(1)) == 3
    assert calls == [1]

    scheduler = make_scheduler(db)
    session = scheduler.backend.session
    recorded = {node.task_name for node in session.query(CallNode)}
    assert "test_no_prov.main" in recorded and "redun.no_prov" in recorded
    assert "test_no_prov.add" not in recorded and "redun.no_prov_helper" not in recorded
    assert all(job.task.name != "add" for job in session.query(Job))

    assert scheduler.run(main(1)) == 3
    assert calls == [1], "the no_prov sub-workflow is served from the cache"
