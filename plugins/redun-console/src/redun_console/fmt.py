"""How times, durations, statuses and ids are shown: one place, so every screen agrees."""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timedelta, timezone

from redun.tags import format_tag_value
from rich.text import Text

# Ids are shown with at least this many characters (redun showed 8; never fewer).
SHORT_ID = 8

STATUS_STYLES = {
    "DONE": "green",
    "CACHED": "cyan",
    "FAILED": "bold red",
    "RUNNING": "yellow",
    "STOPPED": "magenta",
}


def short_id(value: str | None) -> str:
    return (value or "")[:SHORT_ID]


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def local_time(value: datetime | None) -> str:
    """A timestamp in the user's local time zone, to the second."""
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """`end - start`, or time so far (with a trailing '+') when still running."""
    if start is None:
        return ""
    running = end is None
    end = end or now or datetime.now(timezone.utc)
    return format_timedelta(end - start) + ("+" if running else "")


def format_timedelta(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s"


def command_line(args_json: str) -> str:
    """An execution's recorded argv (a JSON list) as a shell command line."""
    try:
        argv = json.loads(args_json)
    except (TypeError, ValueError):
        return str(args_json)
    if not isinstance(argv, list):
        return str(argv)
    if argv and str(argv[0]).endswith("redun"):
        argv = ["redun", *argv[1:]]
    return shlex.join(str(arg) for arg in argv)


def tag_text(key: str, value: object) -> str:
    """``key=value`` as `redun log` writes it (a string that would parse as something
    else is quoted), untrimmed."""
    return f"{key}={format_tag_value(value)}"
