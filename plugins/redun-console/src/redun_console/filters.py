"""The executions screen's search language: ``status:failed task:main tag:env=prod after:DATE``.

Words without a ``key:`` prefix match an execution id prefix or any part of its
command line. The same text is the query part of a route
(``executions?status:failed``), so a filtered screen can be opened from a shell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from redun.backends.db.status import EXECUTION_STATUSES
from redun.tags import ANY_VALUE

KEYS = ("status", "task", "tag", "after", "before")


class FilterError(ValueError):
    """The filter text cannot be understood; the message says which word and why."""


@dataclass(frozen=True)
class ExecutionFilter:
    statuses: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    tags: tuple[tuple[str, object], ...] = ()  # (key, value); value None = any value
    after: datetime | None = None
    before: datetime | None = None
    words: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(
            self.statuses or self.tasks or self.tags or self.after or self.before or self.words
        )

    def browse_filters(self) -> dict[str, Any]:
        """The keyword arguments of the read model's `list_executions`."""
        return {
            "statuses": self.statuses,
            "tasks": self.tasks,
            "tags": [(key, ANY_VALUE if value is None else value) for key, value in self.tags],
            "after": self.after,
            "before": self.before,
            "words": self.words,
        }


def parse_tag_value(text: str) -> object:
    """Tag values as the CLI parses them: JSON when it looks like JSON, else the string."""
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_date(text: str, key: str) -> datetime:
    """``YYYY-MM-DD[THH:MM[:SS]]`` in local time, or a relative ``3d``/``12h``/``30m`` ago."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(timezone.utc) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            raise FilterError(
                f"{key}:{text} is not a date (use YYYY-MM-DD, YYYY-MM-DDTHH:MM, or 3d/12h/30m)"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.astimezone(timezone.utc)


def parse_filter(text: str) -> ExecutionFilter:
    statuses: list[str] = []
    tasks: list[str] = []
    tags: list[tuple[str, object]] = []
    words: list[str] = []
    after = before = None
    for word in text.split():
        key, sep, value = word.partition(":")
        if not sep or key not in KEYS:
            words.append(word)
            continue
        if not value:
            raise FilterError(f"{key}: needs a value")
        if key == "status":
            status = value.upper()
            if status not in EXECUTION_STATUSES:
                known = ", ".join(sorted(EXECUTION_STATUSES)).lower()
                raise FilterError(f"status:{value} is not one of {known}")
            statuses.append(status)
        elif key == "task":
            tasks.append(value)
        elif key == "tag":
            tag_key, has_value, tag_value = value.partition("=")
            tags.append((tag_key, parse_tag_value(tag_value) if has_value else None))
        elif key == "after":
            after = parse_date(value, key)
        else:
            before = parse_date(value, key)
    return ExecutionFilter(tuple(statuses), tuple(tasks), tuple(tags), after, before, tuple(words))
