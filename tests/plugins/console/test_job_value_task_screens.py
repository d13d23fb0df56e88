"""Job, value and task screens: what they show and the keys that move between them."""

from __future__ import annotations

from redun.backends.db import CallNode, File, Job, Task
from redun_console.screens.execution import ExecutionScreen
from redun_console.screens.job import JobScreen
from redun_console.screens.task import TaskScreen
from redun_console.screens.value import ValueScreen
from redun_console.widgets import LinkTable
from sqlalchemy import select
from textual.containers import ScrollableContainer

from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import rows, run_console, widget_text


def job_of(repo: Repo, execution: str, task_name: str) -> str:
    backend = repo.backend()
    try:
        return backend.session.scalars(
            select(Job.id)
            .join(Task, Task.hash == Job.task_hash)
            .where(Job.execution_id == repo.executions[execution], Task.name == task_name)
            .order_by(Job.start_time)
        ).first()
    finally:
        backend.close()


def text(app, selector: str) -> str:
    return widget_text(app.screen.query_one(selector))


def test_failed_job_shows_error_traceback_arguments_and_why_it_ran(repo: Repo) -> None:
    job = job_of(repo, "failed", "fail_on")

    async def steps(app, pilot):
        summary = text(app, "#summary")
        assert f"Job {job}  FAILED" in summary
        assert "Task console_test.fail_on" in summary
        assert f"Execution {repo.executions['failed']}" in summary
        assert text(app, "#result-title") == "Error"
        result = text(app, "#result")
        assert "ValueError: cannot handle 2" in result
        assert 'raise ValueError(f"cannot handle {x}")' in result
        assert "workflows.py" in result
        assert rows(app.screen.query_one("#arguments", LinkTable))[0][0] == "0"
        assert rows(app.screen.query_one("#arguments", LinkTable))[0][3] == "2"
        assert text(app, "#reason") == (
            "Why: Never run before: no earlier call of task 'console_test.fail_on'."
        )
        assert "def fail_on(x: int) -> int:" in text(app, "#source")

    run_console(repo, f"jobs/{job}", steps)


def test_cached_job_says_where_its_result_came_from(repo: Repo) -> None:
    job = job_of(repo, "cached", "main")
    original = job_of(repo, "done", "main")
    backend = repo.backend()
    try:
        call_hash = backend.reader().job(original).call_hash
    finally:
        backend.close()

    async def steps(app, pilot):
        assert "CACHED" in text(app, "#summary")
        assert "Cached yes" in text(app, "#summary")
        assert text(app, "#reason") == (
            f"Why: Cached: reused call {call_hash[:8]} made by job {original[:8]}."
        )
        assert text(app, "#result") == "[1, 2, 3]"
        assert len(rows(app.screen.query_one("#children", LinkTable))) == 3
        assert text(app, "#children-title") == "Child jobs (3)"

    run_console(repo, f"jobs/{job}", steps)


def test_job_that_ran_for_new_arguments_or_new_code_says_so(repo: Repo) -> None:
    async def new_args(app, pilot):
        assert text(app, "#reason") == "Why: New arguments: n changed (3 --> 4)."

    run_console(repo, f"jobs/{job_of(repo, 'more', 'main')}", new_args)

    async def new_code(app, pilot):
        reason = text(app, "#reason")
        assert reason.startswith("Why: New task code for 'console_test.greet' (task_hash ")
        assert reason.endswith("); same arguments as before.")

    run_console(repo, f"jobs/{job_of(repo, 'greet2', 'greet')}", new_code)


def test_running_job_has_no_result_yet(repo: Repo) -> None:
    async def steps(app, pilot):
        assert "RUNNING" in text(app, "#summary")
        assert "still running" in text(app, "#result")
        # No call record yet: the reason is known from the earlier calls of the task.
        assert text(app, "#reason") == (
            "Why: Never run before: no earlier call of task 'console_test.crash_later'."
        )

    run_console(repo, f"jobs/{job_of(repo, 'running', 'crash_later')}", steps)


def test_job_keys_move_to_parent_execution_task_result_and_children(repo: Repo) -> None:
    job = job_of(repo, "done", "add")
    parent = job_of(repo, "done", "main")

    async def steps(app, pilot):
        await pilot.press("p")
        await pilot.pause()
        assert app.sub_title == f"jobs/{parent}"
        await pilot.press("c", "enter")
        await pilot.pause()
        assert app.sub_title == f"jobs/{job}"
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ValueScreen)
        assert text(app, "#preview") == "1"
        await pilot.press("escape", "t")
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
        await pilot.press("escape", "x")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)
        assert app.sub_title == f"executions/{repo.executions['done']}"
        await pilot.press("escape", "a", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ValueScreen)
        await pilot.press("escape", "l")
        await pilot.pause()
        links = rows(app.screen.query_one("#links", LinkTable))
        assert [link[0] for link in links] == ["Execution", "Parent job", "Task", "Result value"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecutionScreen)

    run_console(repo, f"jobs/{job}", steps)


def test_root_job_has_no_parent(repo: Repo) -> None:
    async def steps(app, pilot):
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        assert any("no parent" in n.message for n in app._notifications)

    run_console(repo, f"jobs/{job_of(repo, 'done', 'main')}", steps)


def test_file_value_shows_path_hash_producer_and_consumer(repo: Repo) -> None:
    backend = repo.backend()
    try:
        value_hash = backend.session.scalars(select(File.value_hash)).first()
    finally:
        backend.close()

    async def steps(app, pilot):
        summary = text(app, "#summary")
        assert f"File {repo.path / 'words.txt'}" in summary
        assert f"hash {value_hash}" in summary
        assert "Type redun.File" in summary
        made = rows(app.screen.query_one("#producers", LinkTable))
        used = rows(app.screen.query_one("#consumers", LinkTable))
        assert [row[4] for row in made] == ["console_test.write_file"]
        assert [row[4] for row in used] == ["console_test.count_words"]
        await pilot.press("m", "enter")
        await pilot.pause()
        assert "console_test.write_file" in text(app, "#summary")
        await pilot.press("escape", "u", "enter")
        await pilot.pause()
        assert "console_test.count_words" in text(app, "#summary")

    run_console(repo, f"values/{value_hash[:8]}", steps)


def test_wide_value_is_shown_whole_and_scrolls_sideways(repo: Repo) -> None:
    backend = repo.backend()
    try:
        value_hash = backend.session.scalars(
            select(CallNode.value_hash).where(CallNode.task_name == "console_test.wide")
        ).first()
    finally:
        backend.close()

    async def steps(app, pilot):
        preview = text(app, "#preview")
        assert "W" * 400 + "END" in preview
        scroll = app.screen.query_one("#preview-scroll", ScrollableContainer)
        assert scroll.max_scroll_x > 300
        await pilot.press("w", "end")
        await pilot.pause()
        assert app.screen.focused is scroll
        await pilot.press("right", "right", "right")
        await pilot.pause()
        assert scroll.scroll_x > 0

    run_console(repo, f"values/{value_hash}", steps, size=(100, 40))


def test_task_screen_shows_each_version_source_and_jobs(repo: Repo) -> None:
    async def steps(app, pilot):
        assert "Task console_test.greet   2 version(s) recorded" in text(app, "#summary")
        versions = rows(app.screen.query_one("#versions", LinkTable))
        assert len(versions) == 2 and all(len(row[0]) == 40 for row in versions)
        newest = text(app, "#source")
        assert 'return f"good day, {name}!"' in newest
        jobs = rows(app.screen.query_one("#task-jobs", LinkTable))
        assert len(jobs) == 1 and jobs[0][4] == "console_test.greet"
        await pilot.press("down")
        await pilot.pause()
        assert 'return f"hello {name}"' in text(app, "#source")
        assert f"Source of version {versions[1][0][:8]}" == text(app, "#source-title")
        await pilot.press("enter")
        await pilot.pause()
        assert app.sub_title == f"tasks/{versions[1][0]}"
        await pilot.press("j", "enter")
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        assert app.screen.detail.job.execution_id == repo.executions["greet1"]
        await pilot.press("escape", "j", "v")
        await pilot.pause()
        assert app.screen.focused is app.screen.query_one("#versions", LinkTable)

    run_console(repo, "tasks/greet", steps)


def test_a_job_called_twice_with_one_value_lists_both_arguments(repo: Repo) -> None:
    async def steps(app, pilot):
        arguments = rows(app.screen.query_one("#arguments", LinkTable))
        assert [(row[0], row[3]) for row in arguments] == [("0", "5"), ("1", "5")]
        await pilot.press("a", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ValueScreen)
        assert text(app, "#preview") == "5"

    run_console(repo, f"jobs/{job_of(repo, 'running', 'add')}", steps)


def test_a_job_with_more_children_than_shown_says_so(repo: Repo, monkeypatch) -> None:
    monkeypatch.setattr(JobScreen, "max_children", 2)

    async def steps(app, pilot):
        assert len(rows(app.screen.query_one("#children", LinkTable))) == 2
        assert text(app, "#children-title").startswith("Child jobs (first 2 of 4;")

    run_console(repo, f"jobs/{job_of(repo, 'more', 'main')}", steps)


def test_value_screen_shows_the_upstream_dataflow(repo: Repo) -> None:
    backend = repo.backend()
    try:
        calls = dict(
            backend.session.execute(
                select(CallNode.task_name, CallNode.call_hash).where(
                    CallNode.task_name.in_(["console_test.count_words", "console_test.write_file"])
                )
            ).all()
        )
        value_hash = backend.session.scalars(
            select(CallNode.value_hash).where(CallNode.task_name == "console_test.files")
        ).first()
    finally:
        backend.close()

    async def steps(app, pilot):
        lines = text(app, "#dataflow").splitlines()
        count_words = calls["console_test.count_words"][:8]
        write_file = calls["console_test.write_file"][:8]
        assert lines[0] == f"value <-- <{count_words}> count_words(file)"
        assert f"file <-- <{write_file}> write_file(path, text)" in lines
        assert "text <-- origin" in lines

    run_console(repo, f"values/{value_hash}", steps, size=(120, 60))
