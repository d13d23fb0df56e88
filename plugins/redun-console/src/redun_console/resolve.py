"""Turn what a user types (an id prefix, ``-``, ``~2``, a file path) into a route.

``-``, ``~N`` and paths are read by the core's query API, as `redun log` reads
them; id prefixes are matched here per record type, so that an ambiguous
prefix is reported with its candidates instead of silently picking one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redun.backends.db import CallNode, Execution
from redun.backends.db.browse import first_job_of_call, ids_with_prefix
from redun.backends.db.query import FileMatch, QueryError, infer_specialty_id

if TYPE_CHECKING:
    from redun.backends.db import RedunSession


class ResolveError(LookupError):
    """Nothing (or more than one thing) matches; the message says which."""


# record type -> (route prefix, label), in the order an ambiguous id lists them
_KINDS = {
    "Execution": ("executions", "execution"),
    "Job": ("jobs", "job"),
    "Task": ("tasks", "task"),
    "CallNode": ("jobs", "call node"),
    "Value": ("values", "value"),
}


def match_prefix(session: RedunSession, record_type: str, prefix: str) -> str:
    """The one id of a record type (Execution, Job, Task, CallNode, Value) starting `prefix`."""
    label = _KINDS[record_type][1]
    if not prefix:
        raise ResolveError(f"an empty {label} id")
    found = ids_with_prefix(session, record_type, prefix)
    if not found:
        raise ResolveError(f"no {label} with id {prefix}")
    if len(found) > 1 and prefix not in found:
        raise ResolveError(
            f"{label} id {prefix} is ambiguous ({found[0][:12]}, {found[1][:12]}, ...): "
            "type more characters"
        )
    return prefix if prefix in found else found[0]


def latest_execution(session: RedunSession, shortcut: str = "-") -> str:
    """The execution ``-`` (latest) or ``~N`` (N-th latest) names, as in ``redun log``."""
    if shortcut != "-" and not (shortcut[:1] == "~" and shortcut[1:].isdigit()):
        raise ResolveError(f"{shortcut} is not - or ~N")
    found = _specialty(session, shortcut)
    if not isinstance(found, Execution):
        raise ResolveError("the repo has no executions")
    return found.id


def _specialty(session: RedunSession, text: str) -> Any:
    """The core's reading of ``-``, ``~N`` and file paths (what `redun log` accepts)."""
    try:
        return infer_specialty_id(session, text)
    except QueryError as error:
        raise ResolveError(str(error)) from None


def infer_route(session: RedunSession, text: str) -> str:
    """The screen for `text`: any record id (prefix), ``-`` (latest execution), ``~N``, a path."""
    special = _specialty(session, text)
    if isinstance(special, Execution):
        return f"executions/{special.id}"
    if isinstance(special, FileMatch):
        return f"values/{special.file.value_hash}"
    if text == "-":
        raise ResolveError("the repo has no executions")
    if "/" in text:
        raise ResolveError(f"no File recorded at {text}")
    matches = []
    for record_type, (route, label) in _KINDS.items():
        found = ids_with_prefix(session, record_type, text)
        # A task is also stored as a value with the same hash: the task wins.
        seen = {m[3] for m in matches}
        matches.extend((route, label, record_type, value) for value in found if value not in seen)
    if not matches:
        raise ResolveError(f"no record with id {text}")
    exact = [m for m in matches if m[3] == text]
    if len(exact) >= 1:
        matches = exact[:1]
    if len(matches) > 1:
        shown = ", ".join(f"{label} {value[:12]}" for _, label, _, value in matches[:4])
        raise ResolveError(f"id {text} is ambiguous ({shown}): type more characters")
    route, _, record_type, value = matches[0]
    if record_type == "CallNode":
        job_id = first_job_of_call(session, value)
        if job_id is None:
            return f"values/{session.get(CallNode, value).value_hash}"
        value = job_id
    return f"{route}/{value}"
