"""What an id names, and which records a set of filters selects (``redun log``'s language).

The read model's lookups (`redun.backends.db.reader` is their public face).
An id is an id or unique id prefix of any record type, a task name (every
version of it), ``-`` (the latest execution), ``~N`` (the N-th latest) or a
file path (the most recent File recorded there). Filters are those of
``redun log``; the console's search uses the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from redun.backends.db import browse, details
from redun.backends.db.models import Task, Value
from redun.backends.db.query import (
    MODEL_CLASSES,
    MODEL_NAMES,
    MODEL_PKS,
    CallGraphQuery,
    FileMatch,
    QueryError,
    infer_specialty_id,
)
from redun.backends.db.rows import RecordRef

MATCHES_SHOWN = 50
JOB_FILTERS = ("task_names", "task_hashes", "results", "arguments")


class AmbiguousIdError(QueryError):
    """An id prefix names several records; `candidates` lists some of them."""

    def __init__(self, text: str, candidates: Sequence[RecordRef]) -> None:
        self.text = text
        self.candidates = tuple(candidates)
        super().__init__(f"Id prefix '{text}' is ambiguous")


def _record_id(record: Any) -> str:
    return getattr(record, MODEL_PKS[type(record)].key)


def _ref(record: Any) -> RecordRef:
    if isinstance(record, FileMatch):
        return RecordRef(
            "File", record.file.value_hash, record.file.path, record.job.id, record.kind
        )
    if isinstance(record, Task):
        return RecordRef("Task", record.hash, record.fullname)
    return RecordRef(type(record).__name__, _record_id(record))


def find(
    session: Session, text: str, types: Iterable[str] | None = None, files: bool = True
) -> list[RecordRef]:
    """The records `text` names (see the module docstring), at most MATCHES_SHOWN.

    More than one is returned for every version of a task name, and for an
    ambiguous prefix (an exact id wins over ids it prefixes). Raises
    `QueryError` for ``~0`` or an index past the oldest execution.
    """
    special = infer_specialty_id(session, text, include_files=files)
    if special is not None:
        ref = _ref(special)
        return [ref] if types is None or ref.type in types or ref.type == "File" else []
    query = CallGraphQuery(session)
    if types is not None:
        query = query.filter_types(types)
    matches = list(query.like_id(text).limit(MATCHES_SHOWN))
    # A task is also stored as a value with the same hash: the task is meant.
    task_ids = {record.hash for record in matches if isinstance(record, Task)}
    matches = [m for m in matches if not (isinstance(m, Value) and m.value_hash in task_ids)]
    exact = [m for m in matches if _record_id(m) == text]
    if exact:
        return [_ref(exact[0])]
    return [_ref(record) for record in matches]


def find_one(
    session: Session, text: str, types: Iterable[str] | None = None, files: bool = True
) -> RecordRef | None:
    """The one record `text` names, None for none; `AmbiguousIdError` for several
    (every version of a task name counts as several)."""
    found = find(session, text, types, files)
    if len(found) > 1:
        raise AmbiguousIdError(text, found)
    return found[0] if found else None


def full_ids(session: Session, record_type: str, prefixes: Iterable[str]) -> list[str]:
    """Full ids for ids or unique prefixes of one record type (`QueryError` otherwise)."""
    ids = []
    for prefix in prefixes:
        found = browse.ids_with_prefix(session, record_type, prefix)
        if not found:
            raise QueryError(f"{prefix}: nothing recorded has this id (or id prefix).")
        if len(found) > 1 and prefix not in found:
            raise QueryError(f"{prefix}: id prefix is ambiguous; give more characters.")
        ids.append(prefix if prefix in found else found[0])
    return ids


@dataclass(frozen=True)
class RecordFilter:
    """The filters of ``redun log`` (all given must hold), as plain values.

    `types` are record types asked for by name ("Execution", "Job", "CallNode",
    "Task", "Value", or "File" for Files alone). Ids may be unique prefixes;
    execution ids also ``-`` and ``~N``. Tags are ``(key, value)`` pairs,
    `redun.tags.ANY_VALUE` matching any value of a key.
    """

    types: frozenset[str] = frozenset()
    execution_statuses: tuple[str, ...] = ()
    job_statuses: tuple[str, ...] = ()
    task_names: tuple[str, ...] = ()
    task_hashes: tuple[str, ...] = ()
    value_types: tuple[str, ...] = ()
    file_paths: tuple[str, ...] = ()
    execution_ids: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    tags: tuple[tuple[str, Any], ...] = ()
    execution_tags: tuple[tuple[str, Any], ...] = ()
    all_types: bool = field(default=False)


def _execution_id(session: Session, text: str) -> str:
    special = infer_specialty_id(session, text, include_files=False)
    if special is not None:
        return special.id
    return full_ids(session, "Execution", [text])[0]


def _labelled(option: str, resolve: Any) -> Any:
    """`resolve`'s result, its `QueryError` prefixed with the filter's name."""
    try:
        return resolve()
    except QueryError as error:
        raise QueryError(f"{option} {error}") from None


class Search:
    """The records a `RecordFilter` selects, newest first within each record type.

    `types` are the record types listed, `recent` says nothing particular was
    asked for (``redun log`` alone: the recent executions).
    """

    def __init__(self, session: Session, filters: RecordFilter) -> None:
        self.session = session
        self.files_only = "File" in filters.types
        types = set(filters.types) - {"File"}
        query = CallGraphQuery(session).order_by("time")
        if filters.execution_statuses:
            types.add("Execution")
            query = query.filter_execution_statuses(filters.execution_statuses)
        if filters.job_statuses:
            types.add("Job")
            query = query.filter_job_statuses(filters.job_statuses)
        if filters.value_types:
            types.add("Value")
            query = query.filter_value_types(filters.value_types)
        if filters.file_paths:
            types.add("Value")
            query = query.filter_file_paths(filters.file_paths)
        if filters.all_types:
            types.update(MODEL_NAMES)
        if self.files_only:
            types = {"Value"}
            query = query.filter_value_types(["redun.File"])
        if not types and any(getattr(filters, name) for name in JOB_FILTERS):
            types = {"Job"}
        self.recent = not types
        if self.recent:
            types = {"Execution"}
        query = query.filter_types(types)
        if filters.execution_ids:
            ids = [
                _labelled("--exec-id", lambda i=i: _execution_id(session, i))
                for i in filters.execution_ids
            ]
            query = query.filter_execution_ids(ids)
        if filters.task_names:
            query = query.filter_task_names(filters.task_names)
        if filters.task_hashes:
            task_hashes = filters.task_hashes
            hashes = _labelled("--task-hash", lambda: full_ids(session, "Task", task_hashes))
            query = query.filter_task_hashes(hashes)
        if filters.results:
            hashes = _labelled("--result", lambda: full_ids(session, "Value", filters.results))
            query = query.filter_results(hashes)
        if filters.arguments:
            hashes = _labelled("--arg", lambda: full_ids(session, "Value", filters.arguments))
            query = query.filter_arguments(hashes)
        if filters.tags:
            query = query.filter_tags(filters.tags)
        if filters.execution_tags:
            query = query.filter_execution_tags(filters.execution_tags)
        self.query = query
        self.types = tuple(name for name in MODEL_NAMES if name in query.types)

    def refs(self) -> Iterator[RecordRef]:
        for record_type, stmt in self.query.build().items():
            pk = MODEL_PKS[MODEL_CLASSES[record_type]]
            ids = stmt.with_only_columns(pk)
            for record_id in self.session.scalars(ids):
                yield RecordRef(record_type, record_id)

    def count(self) -> list[tuple[str, int]]:
        return list(self.query.count())

    def rows(self) -> Iterator[Any]:
        """The selected records as rows, one record type after the other."""
        refs = list(self.refs())
        for record_type in self.types:
            ids = [ref.id for ref in refs if ref.type == record_type]
            yield from rows_of(self.session, record_type, ids)

    def files(self) -> list[Any]:
        values = self.query.build().get("Value")
        if values is None:
            return []
        value_hashes = values.order_by(None).with_only_columns(values.selected_columns.value_hash)
        return details.files(self.session, value_hashes)


def rows_of(session: Session, record_type: str, ids: Sequence[str]) -> list[Any]:
    """Rows (ready to print) of records of one type, in the order of `ids`."""
    if record_type == "Execution":
        return browse.executions_by_ids(session, ids)
    if record_type == "Job":
        return details.with_line_data(session, browse.jobs_by_ids(session, ids))
    if record_type == "CallNode":
        found = details.call_nodes(session, ids)
    elif record_type == "Task":
        found = details.tasks(session, ids)
    elif record_type == "Value":
        found = details.value_rows(session, ids)
        tags = browse.get_tags(session, list(found))
        found = {h: replace(row, tags=tags.get(h, ())) for h, row in found.items()}
    else:
        raise QueryError(f"Unknown record type {record_type!r}: use {', '.join(MODEL_NAMES)}.")
    return [found[i] for i in ids if i in found]
