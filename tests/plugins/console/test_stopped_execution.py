"""A run whose scheduler died (no heartbeat for a minute) shows as STOPPED, not RUNNING."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from redun.backends.db import Execution
from redun.backends.db.status import STALE_AFTER
from redun_console.widgets import LinkTable

from tests.helpers.aging import age_execution
from tests.plugins.console import workflows as wf
from tests.plugins.console.builders import Repo, run, run_crashing
from tests.plugins.console.helpers import rows, run_console


def test_a_dead_run_is_stopped_in_the_executions_list(tmp_path: Path) -> None:
    repo = Repo(f"sqlite:///{tmp_path / 'redun.db'}", tmp_path)
    run(repo, "done", wf.main(2), ["redun", "run", "workflows.py", "main"])
    dead = run_crashing(repo)
    backend = repo.backend()
    # Moments after the process died its heartbeat is fresh: it could still be running.
    assert backend.session.get(Execution, dead).status == "RUNNING"
    # Let an hour pass since its last sign of life.
    age_execution(backend.engine, dead)
    backend.close()
    assert timedelta(hours=1) > STALE_AFTER

    async def steps(app, pilot):
        table = {row[0]: row for row in rows(app.screen.query_one(LinkTable))}
        assert table[dead[:8]][1] == "STOPPED"
        assert table[repo.executions["done"][:8]][1] == "DONE"
        app.screen.set_query("status:stopped")
        assert [row[0] for row in rows(app.screen.query_one(LinkTable))] == [dead[:8]]
        app.screen.set_query("status:running")
        assert rows(app.screen.query_one(LinkTable)) == []

    run_console(repo, "executions", steps)
