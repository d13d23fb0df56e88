"""Turn what a user types (an id prefix, ``-``, ``~2``, a file path) into a route.

Ids are read by the core's read model, as `redun log` reads them: ``-``,
``~N``, paths, id prefixes of every record type. An ambiguous prefix is
reported with its candidates instead of silently picking one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redun.backends.db.reader import QueryError

if TYPE_CHECKING:
    from redun.backends.db.reader import CallGraphReader
    from redun.backends.db.rows import RecordRef


class ResolveError(LookupError):
    """Nothing (or more than one thing) matches; the message says which."""


# record type -> (route prefix, label)
_KINDS = {
    "Execution": ("executions", "execution"),
    "Job": ("jobs", "job"),
    "Task": ("tasks", "task"),
    "CallNode": ("jobs", "call node"),
    "Value": ("values", "value"),
    "File": ("values", "file"),
}


def match_prefix(reader: CallGraphReader, record_type: str, prefix: str) -> str:
    """The one id of a record type (Execution, Job, Task, CallNode, Value) starting `prefix`."""
    label = _KINDS[record_type][1]
    if not prefix:
        raise ResolveError(f"an empty {label} id")
    found = reader.ids_with_prefix(record_type, prefix)
    if not found:
        raise ResolveError(f"no {label} with id {prefix}")
    if len(found) > 1 and prefix not in found:
        raise ResolveError(
            f"{label} id {prefix} is ambiguous ({found[0][:12]}, {found[1][:12]}, ...): "
            "type more characters"
        )
    return prefix if prefix in found else found[0]


def _find(reader: CallGraphReader, text: str, types: set[str] | None = None) -> list[RecordRef]:
    try:
        return reader.find(text, types)
    except QueryError as error:
        raise ResolveError(str(error)) from None


def latest_execution(reader: CallGraphReader, shortcut: str = "-") -> str:
    """The execution ``-`` (latest) or ``~N`` (N-th latest) names, as in ``redun log``."""
    if shortcut != "-" and not (shortcut[:1] == "~" and shortcut[1:].isdigit()):
        raise ResolveError(f"{shortcut} is not - or ~N")
    found = _find(reader, shortcut, {"Execution"})
    if not found:
        raise ResolveError("the repo has no executions")
    return found[0].id


def infer_route(reader: CallGraphReader, text: str) -> str:
    """The screen for `text`: any record id (prefix), ``-`` (latest execution), ``~N``, a path."""
    found = _find(reader, text)
    if not found:
        if text == "-":
            raise ResolveError("the repo has no executions")
        if "/" in text:
            raise ResolveError(f"no File recorded at {text}")
        raise ResolveError(f"no record with id {text}")
    if all(ref.type == "Task" for ref in found):
        found = found[:1]  # a task name: its newest version shows the others
    if len(found) > 1:
        shown = ", ".join(f"{_KINDS[ref.type][1]} {ref.id[:12]}" for ref in found[:4])
        raise ResolveError(f"id {text} is ambiguous ({shown}): type more characters")
    ref = found[0]
    if ref.type == "CallNode":
        job_id = reader.first_job_of_call(ref.id)
        if job_id is None:
            detail = reader.call_node_detail(ref.id)
            return f"values/{detail.call.result.hash}"
        return f"jobs/{job_id}"
    return f"{_KINDS[ref.type][0]}/{ref.id}"
