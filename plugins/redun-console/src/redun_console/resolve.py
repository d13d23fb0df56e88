"""Turn what a user types (an id prefix, ``-``, ``~2``, a file path) into a route."""

from __future__ import annotations

from typing import Any

from redun.backends.db import CallNode, Execution, File, Job, Task, Value
from redun.backends.db.models import latest_executions_stmt
from sqlalchemy import select
from sqlalchemy.orm import Session


class ResolveError(LookupError):
    """Nothing (or more than one thing) matches; the message says which."""


# (model, id column, route prefix, label)
_KINDS: tuple[tuple[Any, Any, str, str], ...] = (
    (Execution, Execution.id, "executions", "execution"),
    (Job, Job.id, "jobs", "job"),
    (Task, Task.hash, "tasks", "task"),
    (CallNode, CallNode.call_hash, "jobs", "call node"),
    (Value, Value.value_hash, "values", "value"),
)


def match_prefix(session: Session, column: Any, prefix: str, label: str) -> str:
    """The one id of `column` starting with `prefix`."""
    if not prefix:
        raise ResolveError(f"an empty {label} id")
    found = session.scalars(
        select(column).where(column.startswith(prefix, autoescape=True)).limit(2)
    ).all()
    if not found:
        raise ResolveError(f"no {label} with id {prefix}")
    if len(found) > 1 and prefix not in found:
        raise ResolveError(
            f"{label} id {prefix} is ambiguous ({found[0][:12]}, {found[1][:12]}, ...): "
            "type more characters"
        )
    return prefix if prefix in found else found[0]


def latest_execution(session: Session, nth: int = 0) -> str:
    found = session.scalars(latest_executions_stmt().offset(nth).limit(1)).first()
    if found is None:
        raise ResolveError("the repo has no executions" if nth == 0 else f"no execution ~{nth}")
    return found.id


def _file_route(session: Session, path: str) -> str | None:
    """The most recently produced File value at `path`."""
    newest = session.scalars(
        select(File.value_hash)
        .join(CallNode, CallNode.value_hash == File.value_hash, isouter=True)
        .where(File.path == path)
        .order_by(CallNode.timestamp.desc().nulls_last())
        .limit(1)
    ).first()
    return f"values/{newest}" if newest else None


def infer_route(session: Session, text: str) -> str:
    """The screen for `text`: any record id (prefix), ``-`` (latest execution), ``~N``, a path."""
    if text == "-":
        return f"executions/{latest_execution(session)}"
    if text.startswith("~") and text[1:].isdigit():
        return f"executions/{latest_execution(session, int(text[1:]))}"
    if "/" in text or ":" in text or text.startswith("."):
        route = _file_route(session, text)
        if route:
            return route
        raise ResolveError(f"no File recorded at {text}")
    matches = []
    for model, column, route, label in _KINDS:
        found = session.scalars(
            select(column).where(column.startswith(text, autoescape=True)).limit(2)
        ).all()
        # A task is also stored as a value with the same hash: the task wins.
        seen = {m[3] for m in matches}
        matches.extend((route, label, model, value) for value in found if value not in seen)
    if not matches:
        raise ResolveError(f"no record with id {text}")
    exact = [m for m in matches if m[3] == text]
    if len(exact) >= 1:
        matches = exact[:1]
    if len(matches) > 1:
        shown = ", ".join(f"{label} {value[:12]}" for _, label, _, value in matches[:4])
        raise ResolveError(f"id {text} is ambiguous ({shown}): type more characters")
    route, _, model, value = matches[0]
    if model is CallNode:
        job_id = session.scalars(
            select(Job.id).where(Job.call_hash == value).order_by(Job.start_time).limit(1)
        ).first()
        if job_id is None:
            return f"values/{session.get(CallNode, value).value_hash}"
        value = job_id
    return f"{route}/{value}"
