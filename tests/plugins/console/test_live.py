"""Live mode: screens follow a running execution, updating rows in place."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual.widgets import DataTable, Tree

from tests.plugins.console import workflows as wf
from tests.plugins.console.builders import Repo, latest_execution_id, run, scheduler_for
from tests.plugins.console.helpers import rows, run_console, settle, widget_text


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def gate_job_recorded(repo: Repo) -> bool:
    from redun.backends.db import Job, Task
    from sqlalchemy import select

    backend = repo.backend()
    try:
        return (
            backend.session.scalars(
                select(Job.id)
                .join(Task, Task.hash == Job.task_hash)
                .where(Task.name == "wait_gate")
            ).first()
            is not None
        )
    finally:
        backend.close()


def start_live_execution(repo: Repo, gate: str) -> threading.Thread:
    """Run `live` in a scheduler thread and return once its gate job is recorded as running."""
    wf.GATES[gate] = threading.Event()

    def target() -> None:
        scheduler = scheduler_for(repo.db_uri)
        scheduler.run(wf.live(gate), exec_argv=["redun", "run", "workflows.py", "live"])
        scheduler.backend.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    wait_for(lambda: gate_job_recorded(repo))
    return thread


def test_execution_screen_follows_jobs_as_they_finish(tmp_path: Path) -> None:
    repo = Repo(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
    repo.backend().close()  # create the schema before two processes race to
    thread = start_live_execution(repo, "execution-screen")

    async def steps(app, pilot):
        screen = app.screen
        tree = screen.query_one(Tree)
        statuses = screen.query_one("#statuses", DataTable)
        assert "RUNNING" in widget_text(screen.query_one("#summary"))
        gate_line = next(n for n in tree.root.children if "wait_gate" in str(n.label))
        assert "RUNNING" in str(gate_line.label)
        await pilot.press("down", "down")
        cursor = tree.cursor_line

        wf.GATES["execution-screen"].set()
        thread.join(20)
        await pilot.pause(0.5)

        assert "DONE" in widget_text(screen.query_one("#summary"))
        # The same node and table, relabelled: nothing was rebuilt, the cursor did not move.
        assert gate_line in tree.root.children
        assert "DONE" in str(gate_line.label)
        assert tree.cursor_line == cursor
        assert screen.query_one("#statuses", DataTable) is statuses
        assert {row[0]: row[1:] for row in rows(statuses)}["ALL"] == ["0", "0", "0", "0", "3", "3"]

    run_console(repo, "executions/-", steps, poll_interval=0.1)


def test_executions_screen_shows_new_executions_and_keeps_the_cursor(tmp_path: Path) -> None:
    repo = Repo(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
    run(repo, "first", wf.main(2), ["redun", "run", "workflows.py", "main"])
    first = repo.executions["first"]

    async def steps(app, pilot):
        table = app.screen.query_one(DataTable)
        assert [row[0] for row in rows(table)] == [first[:8]]
        thread = start_live_execution(repo, "executions-screen")
        await pilot.pause(0.5)
        running = latest_execution_id(repo.db_uri)
        assert [row[:2] for row in rows(table)] == [[running[:8], "RUNNING"], [first[:8], "DONE"]]
        await pilot.press("down")
        assert table.cursor_row == 1

        wf.GATES["executions-screen"].set()
        thread.join(20)
        await pilot.pause(0.5)
        assert [row[:2] for row in rows(table)] == [[running[:8], "DONE"], [first[:8], "DONE"]]
        assert table.cursor_row == 1

    run_console(repo, "executions", steps, poll_interval=0.1)


def test_ctrl_r_reloads_without_live_mode(tmp_path: Path) -> None:
    repo = Repo(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
    run(repo, "first", wf.main(2), ["redun", "run", "workflows.py", "main"])

    async def steps(app, pilot):
        table = app.screen.query_one(DataTable)
        run(repo, "second", wf.main(1), ["redun", "run", "workflows.py", "main"])
        await pilot.pause(0.2)
        assert len(rows(table)) == 1  # no polling: nothing changes by itself
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert [row[0] for row in rows(table)] == [
            repo.executions["second"][:8],
            repo.executions["first"][:8],
        ]

    run_console(repo, "executions", steps, poll_interval=0)


def test_running_durations_tick_without_new_jobs(repo: Repo) -> None:
    """The crashed execution stays RUNNING and nothing is written: durations still advance."""
    running = repo.executions["running"]

    async def steps(app, pilot):
        table = app.screen.query_one(DataTable)
        before = rows(table)
        assert before[0][0] == running[:8] and before[0][3].endswith("+")
        await pilot.pause(1.1)
        after = rows(table)
        assert after[0][3] != before[0][3] and after[0][3].endswith("+")
        assert after[1:] == before[1:]  # finished executions keep their durations

        await pilot.press("enter")
        await settle(pilot, lambda: getattr(app.screen, "execution", None) is not None)
        summary = widget_text(app.screen.query_one("#summary"))
        root = widget_text(app.screen.query_one(Tree)).splitlines()[0]
        await pilot.pause(1.1)
        assert widget_text(app.screen.query_one("#summary")) != summary
        assert widget_text(app.screen.query_one(Tree)).splitlines()[0] != root

        await pilot.press("end", "enter")
        await settle(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        assert "crash_later" in widget_text(app.screen.query_one("#summary"))
        summary = widget_text(app.screen.query_one("#summary"))
        await pilot.pause(1.1)
        assert widget_text(app.screen.query_one("#summary")) != summary

    run_console(repo, "executions", steps, poll_interval=0.2)
