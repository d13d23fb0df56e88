"""The console's own hooks, added through redun_add_hookspecs, used by a plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redun.plugins.manager import get_plugin_manager, reset_plugin_manager
from redun_console.widgets import LinkTable

from tests.plugins.console import demo_plugin
from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import rows, run_console, widget_text
from tests.plugins.console.test_job_value_task_screens import job_of


@pytest.fixture
def demo() -> Iterator[None]:
    reset_plugin_manager()
    get_plugin_manager().register_plugin(demo_plugin, "console-demo", "console-demo", "0.0")
    yield
    reset_plugin_manager()


def test_hook_redun_add_hookspecs_adds_the_console_hooks() -> None:
    reset_plugin_manager()
    try:
        manager = get_plugin_manager()
        info = {i.name: i for i in manager.plugin_infos()}["console"]
        assert info.distribution == "redun-console"
        assert {"redun_commands", "redun_add_hookspecs"} <= set(info.hooks)
        assert manager.hook.redun_console_screens.spec is not None
        assert manager.hook.redun_console_job_links.spec is not None
        assert manager.command_specs()["console"].target == "redun_console.cli:console"
    finally:
        reset_plugin_manager()


def test_hook_redun_console_screens_adds_a_routable_screen(repo: Repo, demo: None) -> None:
    job = job_of(repo, "failed", "fail_on")

    async def steps(app, pilot):
        assert app.sub_title == f"demo-logs/{job}"
        assert widget_text(app.screen.query_one("#demo")) == f"demo logs of job {job}"
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Refresh" in widget_text(app.screen.query_one("#help-keys"))

    run_console(repo, f"demo-logs/{job[:8]}", steps, screens=None)


def test_hook_redun_console_job_links_show_on_the_jobs_they_concern(repo: Repo, demo: None) -> None:
    failed = job_of(repo, "failed", "fail_on")

    async def steps(app, pilot):
        links = rows(app.screen.query_one("#links", LinkTable))
        assert links[-1] == ["Demo logs", f"demo-logs/{failed}"]
        await pilot.press("l", *["down"] * (len(links) - 1), "enter")
        await pilot.pause()
        assert widget_text(app.screen.query_one("#demo")) == f"demo logs of job {failed}"

    run_console(repo, f"jobs/{failed}", steps, screens=None)

    async def other_job(app, pilot):
        links = rows(app.screen.query_one("#links", LinkTable))
        assert "Demo logs" not in [link[0] for link in links]

    run_console(repo, f"jobs/{job_of(repo, 'done', 'main')}", other_job, screens=None)
