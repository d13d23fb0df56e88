"""The executions screen: columns, search and filters, paging keys, opening an execution."""

from __future__ import annotations

from redun_console.screens.execution import ExecutionScreen
from redun_console.screens.executions import ExecutionsScreen
from redun_console.widgets import LinkTable

from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import rows, run_console


def shown_ids(app) -> list[str]:
    return [row[0] for row in rows(app.screen.query_one(LinkTable))]


def test_lists_every_execution_newest_first_with_status_and_command(repo: Repo) -> None:
    async def steps(app, pilot):
        assert isinstance(app.screen, ExecutionsScreen)
        assert app.sub_title == "executions"
        table = rows(app.screen.query_one(LinkTable))
        assert [row[0] for row in table] == [
            repo.executions[name][:8]
            for name in (
                "running",
                "greet2",
                "greet1",
                "wide",
                "files",
                "failed",
                "more",
                "cached",
                "done",
            )
        ]
        by_id = {row[0]: row for row in table}
        assert by_id[repo.executions["failed"][:8]][1] == "FAILED"
        assert by_id[repo.executions["running"][:8]][1] == "RUNNING"
        assert by_id[repo.executions["running"][:8]][3].endswith("+")
        assert by_id[repo.executions["cached"][:8]][1] == "DONE"
        done = by_id[repo.executions["done"][:8]]
        assert done[4] == "console_test.main"
        assert done[5] == "redun run workflows.py main"
        assert done[6] == "env=prod"
        assert by_id[repo.executions["more"][:8]][5] == "redun run workflows.py main --n 4"

    run_console(repo, "executions", steps)


def test_filter_route_selects_by_status_task_tag_and_date(repo: Repo) -> None:
    async def steps(app, pilot):
        assert shown_ids(app) == [repo.executions["failed"][:8]]
        assert app.sub_title == "executions?status:failed"
        for query, expected in [
            ("tag:env=dev", ["cached"]),
            ("tag:env", ["cached", "done"]),
            ("task:greet", ["greet2", "greet1"]),
            ("task:console_test.gr*", ["greet2", "greet1"]),
            ("status:running task:add", ["running"]),
            (repo.executions["wide"][:6], ["wide"]),
            ("--n", ["more"]),
            ("after:1d before:2000-01-01", []),
        ]:
            app.screen.set_query(query)
            assert shown_ids(app) == [repo.executions[n][:8] for n in expected], query
            assert app.sub_title == f"executions?{query}"
        status_line = str(app.screen.query_one("#status-line").content)
        assert "No executions match this filter" in status_line

    run_console(repo, "executions?status:failed", steps)


def test_slash_types_a_filter_and_enter_applies_it(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("slash")
        await pilot.press(*"task:add")
        await pilot.press("space", *"status:done", "enter")
        await pilot.pause()
        assert app.sub_title == "executions?task:add status:done"
        assert set(shown_ids(app)) == {repo.executions[n][:8] for n in ("more", "cached", "done")}
        # Back in the table, keys are commands again.
        await pilot.press("a")
        await pilot.pause()
        assert app.sub_title == "executions?task:add"

    run_console(repo, "executions", steps)


def test_status_keys_f_r_a(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("f")
        await pilot.pause()
        assert shown_ids(app) == [repo.executions["failed"][:8]]
        await pilot.press("r")
        await pilot.pause()
        assert shown_ids(app) == [repo.executions["running"][:8]]
        await pilot.press("a")
        await pilot.pause()
        assert len(shown_ids(app)) == len(repo.executions)

    run_console(repo, "executions", steps)


def test_bad_filter_is_reported_and_keeps_the_list(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("slash", *"status:sleepy", "enter")
        await pilot.pause()
        assert len(shown_ids(app)) == len(repo.executions)
        assert any("status:sleepy" in n.message for n in app._notifications)

    run_console(repo, "executions", steps)


def test_paging_keys_n_and_p(repo: Repo, monkeypatch) -> None:
    monkeypatch.setattr(ExecutionsScreen, "page_size", 4)

    async def steps(app, pilot):
        first = shown_ids(app)
        assert len(first) == 4
        await pilot.press("n")
        await pilot.pause()
        second = shown_ids(app)
        assert len(second) == 4 and not set(first) & set(second)
        await pilot.press("n", "n")
        await pilot.pause()
        assert len(shown_ids(app)) == 1  # 9 executions: 4 + 4 + 1, and no page after it
        await pilot.press("p", "p", "p", "p")
        await pilot.pause()
        assert shown_ids(app) == first

    run_console(repo, "executions", steps)


def test_enter_opens_the_execution_and_escape_comes_back(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)
        assert app.sub_title == f"executions/{repo.executions['greet1']}"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionsScreen)
        assert app.sub_title == "executions"
        # Escape on the first screen stays there.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionsScreen)

    run_console(repo, "executions", steps)
