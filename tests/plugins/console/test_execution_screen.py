"""The execution screen: summary, tags, job status table, job tree, and their keys."""

from __future__ import annotations

from redun_console.screens.execution import ExecutionScreen
from redun_console.screens.job import JobScreen
from redun_console.screens.jobs import JobsScreen
from redun_console.screens.task import TaskScreen
from textual.widgets import DataTable, Tree

from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import rows, run_console, screen_text, widget_text


def test_summary_status_table_and_tree_of_a_partly_cached_execution(repo: Repo) -> None:
    execution = repo.executions["more"]

    async def steps(app, pilot):
        summary = widget_text(app.screen.query_one("#summary"))
        assert f"Execution {execution}  DONE" in summary
        assert "Command redun run workflows.py main --n 4" in summary
        statuses = {row[0]: row[1:] for row in rows(app.screen.query_one("#statuses", DataTable))}
        # RUNNING, STOPPED, FAILED, CACHED, DONE, TOTAL
        assert statuses["console_test.add"] == ["0", "0", "0", "3", "1", "4"]
        assert statuses["console_test.main"] == ["0", "0", "0", "0", "1", "1"]
        assert statuses["ALL"] == ["0", "0", "0", "3", "2", "5"]
        tree = widget_text(app.screen.query_one(Tree)).splitlines()
        assert tree[0].startswith(execution[:0]) and "console_test.main" in tree[0]
        assert "(4 jobs)" in tree[0]
        children = tree[1:]
        assert len(children) == 4
        assert sum("CACHED" in line for line in children) == 3
        assert sum("DONE" in line for line in children) == 1
        assert all("console_test.add" in line for line in children)

    run_console(repo, f"executions/{execution}", steps)


def test_tags_and_failed_status(repo: Repo) -> None:
    async def steps(app, pilot):
        assert "Tags env=prod" in widget_text(app.screen.query_one("#summary"))

    run_console(repo, f"executions/{repo.executions['done']}", steps)

    async def failed(app, pilot):
        text = screen_text(app.screen)
        assert "FAILED" in widget_text(app.screen.query_one("#summary"))
        assert "console_test.fail_on" in text

    run_console(repo, f"executions/{repo.executions['failed']}", failed)


def test_running_execution_shows_running_jobs(repo: Repo) -> None:
    async def steps(app, pilot):
        assert "RUNNING" in widget_text(app.screen.query_one("#summary"))
        statuses = {row[0]: row[1:] for row in rows(app.screen.query_one("#statuses", DataTable))}
        assert statuses["console_test.crash_later"][0] == "1"

    run_console(repo, f"executions/{repo.executions['running']}", steps)


def test_enter_on_a_tree_node_opens_the_job(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        assert "console_test.add" in widget_text(app.screen.query_one("#summary"))

    run_console(repo, f"executions/{repo.executions['done']}", steps)


def test_space_collapses_and_expands_a_node(repo: Repo) -> None:
    async def steps(app, pilot):
        tree = app.screen.query_one(Tree)
        assert tree.root.is_expanded
        await pilot.press("space")
        await pilot.pause()
        assert not tree.root.is_expanded
        await pilot.press("space")
        await pilot.pause()
        assert tree.root.is_expanded and len(tree.root.children) == 3

    run_console(repo, f"executions/{repo.executions['done']}", steps)


def test_many_children_load_a_page_at_a_time(repo: Repo, monkeypatch) -> None:
    monkeypatch.setattr(ExecutionScreen, "children_page_size", 2)

    async def steps(app, pilot):
        tree = app.screen.query_one(Tree)
        labels = [widget_text(tree).splitlines()]
        assert len(tree.root.children) == 3  # two jobs and the "more" line
        assert "2 more jobs" in labels[0][-1]
        await pilot.press("end", "enter")
        await pilot.pause()
        assert len(tree.root.children) == 4
        assert "more" not in widget_text(tree).splitlines()[-1]

    run_console(repo, f"executions/{repo.executions['more']}", steps)


def test_s_then_enter_on_a_status_cell_lists_those_jobs(repo: Repo) -> None:
    execution = repo.executions["more"]

    async def steps(app, pilot):
        await pilot.press("s")
        await pilot.pause()
        table = app.screen.query_one("#statuses", DataTable)
        assert app.screen.focused is table
        # Row console_test.add (first), column CACHED (fifth).
        await pilot.press("right", "right", "right", "right", "enter")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        assert app.sub_title == f"executions/{execution}/jobs?task:console_test.add status:cached"
        jobs = rows(app.screen.query_one("#jobs", DataTable))
        assert len(jobs) == 3 and all(row[1] == "CACHED" for row in jobs)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        await pilot.press("escape", "escape", "j")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)
        assert app.screen.focused is app.screen.query_one(Tree)

    run_console(repo, f"executions/{execution}", steps)


def test_t_opens_the_root_task(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
        assert "console_test.main" in widget_text(app.screen.query_one("#summary"))

    run_console(repo, f"executions/{repo.executions['done']}", steps)


def test_jobs_list_pages_with_n_and_p(repo: Repo, monkeypatch) -> None:
    monkeypatch.setattr(JobsScreen, "page_size", 2)
    execution = repo.executions["more"]

    async def steps(app, pilot):
        table = app.screen.query_one("#jobs", DataTable)
        first = rows(table)
        assert len(first) == 2
        await pilot.press("n")
        await pilot.pause()
        second = rows(table)
        assert len(second) == 2 and second != first
        await pilot.press("n")
        await pilot.pause()
        assert len(rows(table)) == 1  # 5 jobs
        await pilot.press("n")
        await pilot.pause()
        assert any("last page" in n.message for n in app._notifications)
        await pilot.press("p", "p")
        await pilot.pause()
        assert rows(table) == first

    run_console(repo, f"executions/{execution}/jobs", steps)
