"""Routes from the command line, id resolution, the help overlay, go-to, back and quit."""

from __future__ import annotations

from collections import Counter

import pytest
from redun.backends.db import Job
from redun_console.app import RedunConsole
from redun_console.routes import RouteError
from redun_console.screens.execution import ExecutionScreen
from redun_console.screens.executions import ExecutionsScreen
from redun_console.screens.help import GotoScreen, HelpScreen
from redun_console.screens.job import JobScreen
from redun_console.screens.task import TaskScreen
from redun_console.screens.value import ValueScreen
from sqlalchemy import select
from textual.widgets import DataTable

from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import rows, run_console, screen_text


def a_job_id(repo: Repo, execution: str) -> str:
    backend = repo.backend()
    try:
        return backend.session.scalars(
            select(Job.id).where(Job.execution_id == repo.executions[execution])
        ).first()
    finally:
        backend.close()


def opens(repo: Repo, route: str, screen_class: type, sub_title: str) -> None:
    async def steps(app, pilot):
        assert isinstance(app.screen, screen_class)
        if sub_title.endswith("/"):  # a hash the test does not know: check it is a full one
            assert app.sub_title.startswith(sub_title)
            assert len(app.sub_title) == len(sub_title) + 40
        else:
            assert app.sub_title == sub_title

    run_console(repo, route, steps)


def test_routes_open_their_screens_with_full_ids(repo: Repo) -> None:
    execution = repo.executions["failed"]
    job = a_job_id(repo, "failed")
    opens(repo, f"executions/{execution[:8]}", ExecutionScreen, f"executions/{execution}")
    opens(repo, f"jobs/{job[:10]}", JobScreen, f"jobs/{job}")
    opens(repo, "tasks/console_test.greet", TaskScreen, "tasks/")
    opens(repo, "executions/-", ExecutionScreen, f"executions/{repo.executions['running']}")
    opens(repo, "", ExecutionsScreen, "executions")


def test_a_bare_id_or_shortcut_is_inferred(repo: Repo) -> None:
    job = a_job_id(repo, "done")
    opens(
        repo, repo.executions["wide"][:8], ExecutionScreen, f"executions/{repo.executions['wide']}"
    )
    opens(repo, job[:8], JobScreen, f"jobs/{job}")
    opens(repo, "-", ExecutionScreen, f"executions/{repo.executions['running']}")
    opens(repo, "~2", ExecutionScreen, f"executions/{repo.executions['greet2']}")
    opens(repo, str(repo.path / "words.txt"), ValueScreen, "values/")


def test_unknown_and_ambiguous_ids_are_errors_before_the_ui_starts(repo: Repo) -> None:
    backend = repo.backend()
    try:
        with pytest.raises(RouteError, match="no job with id zzzz"):
            RedunConsole(backend, "jobs/zzzz", screens=())
        with pytest.raises(RouteError, match="no record with id qqqq"):
            RedunConsole(backend, "qqqq", screens=())
        firsts = Counter(i[0] for i in repo.executions.values())
        letter = next((c for c, n in firsts.items() if n > 1), None)
        if letter is not None:
            with pytest.raises(RouteError, match="ambiguous"):
                RedunConsole(backend, f"executions/{letter}", screens=())
        with pytest.raises(RouteError, match="not one of"):
            RedunConsole(backend, "executions?status:sleepy", screens=())
    finally:
        backend.close()


def test_question_mark_shows_the_keys_of_the_screen_underneath(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app.screen)
        for key, action in [
            ("/", "Filter"),
            ("n", "Next page"),
            ("p", "Prev page"),
            ("f", "Failed only"),
            ("q", "Quit"),
            ("g", "Go to"),
            ("escape", "Back"),
            ("ctrl+r", "Refresh"),
        ]:
            assert key in text and action in text, (key, action)
        assert "jobs/ID" in text
        keys = [row[0] for row in rows(app.screen.query_one("#help-keys", DataTable))]
        assert keys[:3] == ["escape", "ctrl+r", "/"]  # the screen's own keys come first
        assert keys.index("q") < keys.index("up")  # then the app's, then cursor keys
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionsScreen)

    run_console(repo, "executions", steps)


def test_help_on_a_job_screen_lists_its_keys(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app.screen)
        for action in ("Parent job", "Execution", "Task", "Result value", "Child jobs"):
            assert action in text
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        await pilot.press("question_mark", "q")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen) and app.is_running

    run_console(repo, f"jobs/{a_job_id(repo, 'done')}", steps)


def test_g_goes_to_a_typed_id_and_reports_unknown_ones(repo: Repo) -> None:
    execution = repo.executions["files"]

    async def steps(app, pilot):
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*execution[:8], "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)
        assert app.sub_title == f"executions/{execution}"
        await pilot.press("g", *"nope", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)
        assert any("no record with id nope" in n.message for n in app._notifications)
        await pilot.press("g", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)

    run_console(repo, "executions", steps)


def test_q_quits(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    run_console(repo, "executions", steps)
