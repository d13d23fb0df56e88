"""The search language and the display formats, on their own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redun.tags import ANY_VALUE, format_tag_key_value, parse_tag_key_value
from redun_console.app import RedunConsole
from redun_console.filters import FilterError, parse_filter
from redun_console.fmt import command_line, duration, format_timedelta, tag_text
from redun_console.routes import RouteError

from tests.plugins.console.builders import Repo
from tests.plugins.console.helpers import run_console, widget_text


def test_filter_words_keys_and_values() -> None:
    query = parse_filter("status:Failed task:main tag:env=prod tag:n=3 tag:flag words here")
    assert query.statuses == ("FAILED",)
    assert query.tasks == ("main",)
    assert query.tags == (("env", "prod"), ("n", 3), ("flag", ANY_VALUE))
    assert query.words == ("words", "here")
    assert not parse_filter("   ")


@pytest.mark.parametrize(
    "text", ["3", "01", "1.5", "1e3", "true", "null", "", "[1,2]", '"3"', "abc", "a=b"]
)
def test_tag_values_parse_and_show_as_the_core_does(text: str) -> None:
    """The console's tag words mean what `redun log --tag` means, and show as it shows."""
    ((key, value),) = parse_filter(f"tag:k={text}").tags
    assert (key, value) == parse_tag_key_value(f"k={text}")
    assert tag_text(key, value) == format_tag_key_value(key, value)


def test_filter_dates_absolute_and_relative() -> None:
    query = parse_filter("after:2026-01-02 before:2026-01-03T10:30")
    assert query.after == datetime(2026, 1, 2).astimezone().astimezone(timezone.utc)
    assert query.before == datetime(2026, 1, 3, 10, 30).astimezone().astimezone(timezone.utc)
    recent = parse_filter("after:12h").after
    assert recent is not None
    expected = datetime.now(timezone.utc) - timedelta(hours=12)
    assert abs((recent - expected).total_seconds()) < 5


@pytest.mark.parametrize(
    "text, message",
    [
        ("status:sleepy", "status:sleepy is not one of done, failed, running"),
        ("after:yesterday", "after:yesterday is not a date"),
        ("task:", "task: needs a value"),
    ],
)
def test_filter_errors_say_which_word(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(text)


def test_formats() -> None:
    assert format_timedelta(timedelta(seconds=1.234)) == "1.23s"
    assert format_timedelta(timedelta(seconds=125)) == "2m05s"
    assert format_timedelta(timedelta(hours=2, seconds=61)) == "2h01m01s"
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert duration(start, start + timedelta(seconds=3)) == "3.00s"
    assert duration(start, None, now=start + timedelta(seconds=90)) == "1m30s+"
    assert command_line('["/venv/bin/redun", "run", "wf.py", "main", "--x", "a b"]') == (
        "redun run wf.py main --x 'a b'"
    )
    assert tag_text("env", "prod") == "env=prod"
    assert tag_text("n", [1, 2]) == "n=[1, 2]"


def test_an_empty_repo(tmp_path: Path) -> None:
    repo = Repo(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)

    async def steps(app, pilot):
        assert widget_text(app.screen.query_one("#status-line")) == (
            "No executions in this repo yet"
        )

    run_console(repo, "executions", steps)
    backend = repo.backend()
    try:
        with pytest.raises(RouteError, match="the repo has no executions"):
            RedunConsole(backend, "-", screens=())
    finally:
        backend.close()
