"""The read model of the call graph: every UI reads through it and only formats.

``redun log``, ``redun explain``, ``redun tag``, ``redun run --rerun``, the
console and any plugin screen hold a `CallGraphReader` (never an ORM session)
and get back the frozen rows of `redun.backends.db.rows`. Each fact is
computed once, here: a status (`redun.backends.db.status`), a value's
preview, a failure's traceback, who produced and consumed a value, why a job
ran (`explain_job`, the same comparison ``redun run --dryrun`` makes before
the job starts).

Reads see every record written so far (pending writes of this process are
flushed first). A reader that keeps a screen open calls `end_read` before a
refresh so the next read sees what other processes committed since. A read
that fails because the repo cannot be reached raises `ReadError`; an id that
names nothing is None or an empty list, an ambiguous one `AmbiguousIdError`,
a bad filter `QueryError`.

Example::

    reader = backend.reader()
    for row in reader.list_executions(statuses=["FAILED"], size=20):
        print(row.id[:8], row.status, row.task)
        for job in reader.execution_detail(row.id).jobs:
            if job.status == "FAILED":
                print("  ", job.task, reader.explain_job(job.id).message())
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from redun.backends.db import browse, details, search, tag_reads
from redun.backends.db.query import QueryError
from redun.backends.db.rows import (
    CallNodeDetail,
    ExecutionDetail,
    ExecutionRow,
    JobDetail,
    JobRow,
    RecordRef,
    TagHistoryRow,
    TaskDetail,
    TaskVersion,
    ValueDetail,
    ValueRow,
)
from redun.backends.db.search import AmbiguousIdError, RecordFilter, Search

if TYPE_CHECKING:
    from redun.backends.db.backend import RedunBackendDb
    from redun.backends.reasons import MissReason

PAGE_SIZE = browse.PAGE_SIZE

# A dropped connection or a restarting server; the reader may be used again later.
ReadError = SQLAlchemyError

__all__ = [
    "PAGE_SIZE",
    "AmbiguousIdError",
    "CallGraphReader",
    "QueryError",
    "ReadError",
    "RecordFilter",
    "Search",
]


class CallGraphReader:
    """Questions about what a repository recorded, answered with rows."""

    def __init__(self, backend: RedunBackendDb) -> None:
        self.backend = backend

    @property
    def _session(self) -> Any:
        return self.backend.session

    # -- freshness -------------------------------------------------------------------

    def end_read(self) -> None:
        """End the read transaction, so the next read sees what was committed since."""
        self.backend.end_read()

    def change_token(self) -> tuple:
        """A value that changes whenever a job starts or ends (two index lookups)."""
        return browse.change_token(self._session)

    # -- ids ---------------------------------------------------------------------------

    def find(
        self, text: str, types: Iterable[str] | None = None, files: bool = True
    ) -> list[RecordRef]:
        """What `text` names: an id or unique prefix, a task name (all its versions),
        ``-``, ``~N`` or a file path (`files`). Several refs: ambiguous or task versions."""
        return search.find(self._session, text, None if types is None else set(types), files)

    def find_one(
        self, text: str, types: Iterable[str] | None = None, files: bool = True
    ) -> RecordRef | None:
        """The one record `text` names (None: none), `AmbiguousIdError` for several."""
        return search.find_one(self._session, text, None if types is None else set(types), files)

    def full_ids(self, record_type: str, prefixes: Iterable[str]) -> list[str]:
        return search.full_ids(self._session, record_type, prefixes)

    def ids_with_prefix(self, record_type: str, prefix: str, limit: int = 2) -> list[str]:
        return browse.ids_with_prefix(self._session, record_type, prefix, limit)

    def first_job_of_call(self, call_hash: str) -> str | None:
        return browse.first_job_of_call(self._session, call_hash)

    def find_tasks(self, name: str) -> list[str]:
        """Hashes of the task versions named `name` (or full name), newest job first."""
        return browse.find_tasks(self._session, name)

    # -- searching ---------------------------------------------------------------------

    def search(self, filters: RecordFilter) -> Search:
        """The records ``redun log``'s filters select (see `RecordFilter`)."""
        return Search(self._session, filters)

    # -- executions --------------------------------------------------------------------

    def list_executions(
        self,
        *,
        statuses: Iterable[str] = (),
        tasks: Iterable[str] = (),
        tags: Iterable[tuple[str, Any]] = (),
        after: datetime | None = None,
        before: datetime | None = None,
        words: Iterable[str] = (),
        page: int = 0,
        size: int = PAGE_SIZE,
    ) -> list[ExecutionRow]:
        """One page of executions, newest first (see `browse.list_executions`)."""
        return browse.list_executions(
            self._session,
            statuses=statuses,
            tasks=tasks,
            tags=tags,
            after=after,
            before=before,
            words=words,
            page=page,
            size=size,
        )

    def execution(self, execution_id: str) -> ExecutionRow | None:
        return browse.get_execution(self._session, execution_id)

    def execution_detail(self, execution_id: str) -> ExecutionDetail | None:
        """The execution, all its jobs in start order (ready to print), counts per task."""
        session = self._session
        execution = browse.get_execution(session, execution_id)
        if execution is None:
            return None
        return ExecutionDetail(
            execution,
            tuple(details.all_execution_jobs(session, execution_id)),
            browse.job_status_counts(session, execution_id),
        )

    def job_status_counts(self, execution_id: str) -> dict[str, dict[str, int]]:
        """{task full name: {status: count}} over the jobs of an execution."""
        return browse.job_status_counts(self._session, execution_id)

    # -- jobs ----------------------------------------------------------------------------

    def job(self, job_id: str) -> JobRow | None:
        return browse.get_job(self._session, job_id)

    def job_detail(self, job_id: str, max_children: int = PAGE_SIZE) -> JobDetail | None:
        return details.job_detail(self._session, job_id, max_children)

    def child_jobs(self, parent_id: str, page: int = 0, size: int = PAGE_SIZE) -> list[JobRow]:
        return browse.child_jobs(self._session, parent_id, page, size)

    def execution_jobs(
        self,
        execution_id: str,
        task: str | None = None,
        status: str | None = None,
        page: int = 0,
        size: int = PAGE_SIZE,
    ) -> list[JobRow]:
        """A page of an execution's jobs, optionally of one task pattern and one status."""
        return browse.execution_jobs(self._session, execution_id, task, status, page, size)

    def task_jobs(self, task_hash: str, size: int = PAGE_SIZE) -> list[JobRow]:
        return browse.task_jobs(self._session, task_hash, size)

    def explain_job(self, job_id: str) -> MissReason | None:
        """Why a job ran instead of reusing a cached result (or whose result it reused)."""
        from redun.backends.db.explain import explain_job

        return explain_job(self._session, job_id)

    # -- call nodes, tasks, values --------------------------------------------------------

    def call_node_detail(self, call_hash: str) -> CallNodeDetail | None:
        return details.call_node_detail(self._session, call_hash)

    def task_detail(self, task_hash: str) -> TaskDetail | None:
        return details.task_detail(self._session, task_hash)

    def task_versions(self, task_hash: str) -> list[TaskVersion]:
        return browse.task_versions(self._session, task_hash)

    def value(self, value_hash: str) -> ValueRow | None:
        return details.get_value(self._session, value_hash)

    def value_detail(
        self, value_hash: str, limit: int | None = details.RELATED_LIMIT
    ) -> ValueDetail | None:
        """The value, the jobs that produced and consumed it (`limit` each; None: all)."""
        return details.value_detail(self._session, value_hash, limit)

    def upstream_dataflow(self, value_hash: str, value_name: str = "value") -> list[str]:
        """How a value was derived, as lines of pseudo-code (`redun.backends.db.dataflow`);
        [] for an unknown hash."""
        from redun.backends.db.dataflow import upstream_dataflow_lines

        return upstream_dataflow_lines(self._session, value_hash, value_name)

    def value_object(self, value_hash: str) -> Any:
        """The value for display: decoded, pickle-previewed, or a stand-in when too large."""
        return details.preview_object(self._session, value_hash)

    def load_value(self, value_hash: str) -> tuple[Any, bool]:
        """The value itself, as a task would receive it (``(None, False)`` if unreadable)."""
        return details.load_value(self._session, value_hash)

    # -- tags ------------------------------------------------------------------------------

    def tag_counts(self, by_value: bool = False) -> list[tuple[str, Any, dict[str, int]]]:
        """(key, value or ANY_VALUE, {record type: count}) over the current tags."""
        return tag_reads.tag_counts(self._session, by_value)

    def current_tags(self, entity_ids: Sequence[str]) -> dict[str, tuple[tuple[str, Any], ...]]:
        return browse.get_tags(self._session, entity_ids)

    def tag_history(self, entity_id: str) -> list[TagHistoryRow]:
        return tag_reads.tag_history(self._session, entity_id)
