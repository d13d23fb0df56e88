"""The console on a PostgreSQL repo: every screen, filters (JSONB tags) and id resolution."""

from __future__ import annotations

import pytest
from redun_console.screens.execution import ExecutionScreen
from redun_console.screens.job import JobScreen
from redun_console.screens.task import TaskScreen
from redun_console.screens.value import ValueScreen
from redun_console.widgets import LinkTable
from textual.widgets import DataTable

from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import rows, run_console, widget_text

pytestmark = pytest.mark.postgres


def test_executions_filters_and_routes_on_postgres(pg_repo: Repo) -> None:
    ids = pg_repo.executions

    async def steps(app, pilot):
        table = app.screen.query_one(LinkTable)
        assert len(rows(table)) == len(ids)
        for query, expected in [
            ("tag:env=prod", ["done"]),
            ("status:failed", ["failed"]),
            ("status:running", ["running"]),
            ("task:console_test.greet", ["greet2", "greet1"]),
            (ids["wide"][:8], ["wide"]),
        ]:
            app.screen.set_query(query)
            assert [row[0] for row in rows(table)] == [ids[n][:8] for n in expected], query
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)
        assert app.sub_title == f"executions/{ids['wide']}"

    run_console(pg_repo, "executions", steps)


@pytest.mark.slow
def test_detail_screens_on_postgres(pg_repo: Repo) -> None:
    ids = pg_repo.executions

    async def steps(app, pilot):
        statuses = {r[0]: r[1:] for r in rows(app.screen.query_one("#statuses", DataTable))}
        assert statuses["ALL"] == ["0", "0", "2", "1", "0", "3"]
        await pilot.press("end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        assert "ValueError: cannot handle 2" in widget_text(app.screen.query_one("#result"))
        reason = widget_text(app.screen.query_one("#reason"))
        assert reason == "Why: Never run before: no earlier call of task 'console_test.fail_on'."
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
        assert "def fail_on" in widget_text(app.screen.query_one("#source"))
        await pilot.press("g", *str(pg_repo.path / "words.txt"), "enter")
        await pilot.pause()
        assert isinstance(app.screen, ValueScreen)
        made = rows(app.screen.query_one("#producers", LinkTable))
        assert [row[4] for row in made] == ["console_test.write_file"]

    run_console(pg_repo, f"executions/{ids['failed'][:8]}", steps)


def test_live_mode_survives_a_dropped_connection(pg_repo: Repo, postgres_server) -> None:
    import psycopg

    def drop_connections() -> None:
        with psycopg.connect(postgres_server.url(driver="postgresql"), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = 'console' AND pid <> pg_backend_pid()"
            )

    async def steps(app, pilot):
        drop_connections()
        await pilot.pause(0.5)
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Cannot read the repo (") for m in messages), messages
        assert any(m == "The repo can be read again" for m in messages), messages
        assert app.is_running
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert len(rows(app.screen.query_one(LinkTable))) == len(pg_repo.executions)

    run_console(pg_repo, "executions", steps, poll_interval=0.1)
