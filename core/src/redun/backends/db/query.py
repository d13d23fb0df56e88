"""Query the call graph across record types (used by `redun log`, the console, the REPL).

`CallGraphQuery` keeps one SELECT per record type (Execution, Job, CallNode,
Task, Value); every filter narrows each of them with an indexed ``IN``
subquery, so filters compose in any order without join clashes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, false, func, or_, select, union
from sqlalchemy.orm import Session

from redun.backends.db.models import (
    Argument,
    Base,
    CallNode,
    Execution,
    File,
    Job,
    Subvalue,
    Tag,
    Task,
    Value,
)
from redun.backends.db.status import (
    StatusError,
    check_statuses,
    execution_status_clause,
    job_status_clause,
)
from redun.tags import ANY_VALUE

MODEL_CLASSES: dict[str, type[Base]] = {
    "Execution": Execution,
    "Job": Job,
    "CallNode": CallNode,
    "Task": Task,
    "Value": Value,
}
MODEL_NAMES = list(MODEL_CLASSES)
MODEL_PKS: dict[type[Base], Any] = {
    Execution: Execution.id,
    Job: Job.id,
    CallNode: CallNode.call_hash,
    Task: Task.hash,
    Value: Value.value_hash,
}


class QueryError(ValueError):
    """A filter that cannot be applied (unknown status, bad id shorthand)."""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _checked(statuses: Iterable[str], kind: str) -> list[str]:
    try:
        return check_statuses(statuses, kind)
    except StatusError as error:
        raise QueryError(str(error)) from None


def _execution_values(call_hashes: Select) -> Select:
    """Values touching these call nodes: results, arguments, and their subvalues."""
    direct = union(
        select(CallNode.value_hash).where(CallNode.call_hash.in_(call_hashes)),
        select(Argument.value_hash).where(Argument.call_hash.in_(call_hashes)),
    ).subquery()
    nested = select(Subvalue.value_hash).where(
        Subvalue.parent_value_hash.in_(select(direct.c.value_hash))
    )
    return union(select(direct.c.value_hash), nested)


def _tagged(tags: Iterable[tuple[str, Any]]) -> list[Select]:
    """One entity-id subquery per tag (so entities must carry all of them)."""
    subqueries = []
    for key, value in tags:
        stmt = select(Tag.entity_id).where(Tag.is_current.is_(True), Tag.key == key)
        if value is not ANY_VALUE:
            stmt = stmt.where(Tag.value == value)
        subqueries.append(stmt)
    return subqueries


@dataclass(frozen=True)
class CallGraphQuery:
    """A fluent, immutable query over Executions, Jobs, CallNodes, Tasks and Values."""

    session: Session
    types: frozenset[str] = frozenset(MODEL_NAMES)
    executions: Select = select(Execution)
    jobs: Select = select(Job)
    call_nodes: Select = select(CallNode)
    tasks: Select = select(Task)
    values: Select = select(Value)
    ordered: str | None = None

    MODEL_NAMES = MODEL_NAMES

    def _statements(self) -> dict[str, Select]:
        return {
            "Execution": self.executions,
            "Job": self.jobs,
            "CallNode": self.call_nodes,
            "Task": self.tasks,
            "Value": self.values,
        }

    def _where(self, **conditions: Any) -> CallGraphQuery:
        """Narrow the named subqueries (executions=..., jobs=...) by conditions."""
        updates = {name: getattr(self, name).where(cond) for name, cond in conditions.items()}
        return replace(self, **updates)

    def _only(self, *types: str) -> frozenset[str]:
        return self.types & frozenset(types)

    # -- filters ------------------------------------------------------------------

    def filter_types(self, types: Iterable[str]) -> CallGraphQuery:
        types = frozenset(types)
        unknown = types - set(MODEL_NAMES)
        if unknown:
            raise QueryError(
                f"Unknown record type {sorted(unknown)}: use {', '.join(MODEL_NAMES)}."
            )
        return replace(self, types=types)

    def filter_ids(self, ids: Iterable[str]) -> CallGraphQuery:
        ids = list(ids)
        return self._where(**{self._attr(m): pk.in_(ids) for m, pk in MODEL_PKS.items()})

    def like_id(self, prefix: str) -> CallGraphQuery:
        """Records whose id starts with `prefix` (tasks also match by name)."""
        pattern = _escape_like(prefix) + "%"
        conditions = {
            self._attr(model): pk.like(pattern, escape="\\") for model, pk in MODEL_PKS.items()
        }
        conditions["tasks"] = or_(conditions["tasks"], Task.name == prefix)
        return self._where(**conditions)

    @staticmethod
    def _attr(model: type[Base]) -> str:
        return {
            Execution: "executions",
            Job: "jobs",
            CallNode: "call_nodes",
            Task: "tasks",
            Value: "values",
        }[model]

    def filter_execution_ids(self, execution_ids: Iterable[str]) -> CallGraphQuery:
        ids = list(execution_ids)
        job_calls = select(Job.call_hash).where(Job.execution_id.in_(ids))
        return self._where(
            executions=Execution.id.in_(ids),
            jobs=Job.execution_id.in_(ids),
            call_nodes=CallNode.call_hash.in_(job_calls),
            tasks=Task.hash.in_(select(Job.task_hash).where(Job.execution_id.in_(ids))),
            values=Value.value_hash.in_(_execution_values(job_calls)),
        )

    def filter_job_statuses(self, statuses: Iterable[str]) -> CallGraphQuery:
        statuses = _checked(statuses, "job")
        clause = or_(*(job_status_clause(status, Job) for status in statuses))
        return replace(self._where(jobs=clause), types=self._only("Job"))

    def filter_execution_statuses(self, statuses: Iterable[str]) -> CallGraphQuery:
        statuses = _checked(statuses, "execution")
        clause = or_(*(execution_status_clause(status, Execution) for status in statuses))
        query = self._where(executions=clause)
        return replace(query, types=self._only("Execution"), ordered="time")

    def filter_task_names(self, task_names: Iterable[str]) -> CallGraphQuery:
        terms = []
        for name in task_names:
            if "." in name:
                namespace, short = name.rsplit(".", 1)
                terms.append(and_(Task.namespace == namespace, Task.name == short))
            else:
                terms.append(Task.name == name)
        clause = or_(*terms)
        query = self._where(jobs=Job.task_hash.in_(select(Task.hash).where(clause)), tasks=clause)
        return replace(query, types=self._only("Job", "Task"))

    def filter_task_hashes(self, task_hashes: Iterable[str]) -> CallGraphQuery:
        hashes = list(task_hashes)
        query = self._where(jobs=Job.task_hash.in_(hashes), tasks=Task.hash.in_(hashes))
        return replace(query, types=self._only("Job", "Task"))

    def _jobs_with_values(self, column: Any, value_hashes: list[str]) -> Any:
        nested = select(Subvalue.parent_value_hash).where(Subvalue.value_hash.in_(value_hashes))
        return or_(column.in_(value_hashes), column.in_(nested))

    def filter_arguments(self, value_hashes: Iterable[str]) -> CallGraphQuery:
        """Jobs that received one of these values (directly or nested in an argument)."""
        calls = select(Argument.call_hash).where(
            self._jobs_with_values(Argument.value_hash, list(value_hashes))
        )
        query = self._where(jobs=Job.call_hash.in_(calls))
        return replace(query, types=self._only("Job"))

    def filter_results(self, value_hashes: Iterable[str]) -> CallGraphQuery:
        """Jobs that returned one of these values (directly or nested in the result)."""
        calls = select(CallNode.call_hash).where(
            self._jobs_with_values(CallNode.value_hash, list(value_hashes))
        )
        query = self._where(jobs=Job.call_hash.in_(calls))
        return replace(query, types=self._only("Job"))

    def filter_value_types(self, value_types: Iterable[str]) -> CallGraphQuery:
        query = self._where(values=Value.type.in_(list(value_types)))
        return replace(query, types=self._only("Value"))

    def filter_file_paths(self, paths: Iterable[str]) -> CallGraphQuery:
        """Values that are Files with these paths (``*`` is a wildcard)."""
        patterns = [_escape_like(path).replace("*", "%") for path in paths]
        files = select(File.value_hash).where(
            or_(*(File.path.like(pattern, escape="\\") for pattern in patterns))
        )
        query = self._where(values=Value.value_hash.in_(files))
        return replace(query, types=self._only("Value"))

    def filter_tags(self, tags: Iterable[tuple[str, Any]]) -> CallGraphQuery:
        """Records carrying every tag (`ANY_VALUE` matches any value of a key)."""
        query = self
        for subquery in _tagged(tags):
            query = query._where(
                **{query._attr(model): pk.in_(subquery) for model, pk in MODEL_PKS.items()}
            )
        return query

    def filter_execution_tags(self, tags: Iterable[tuple[str, Any]]) -> CallGraphQuery:
        """Records belonging to executions that carry every tag."""
        query = self
        for subquery in _tagged(tags):
            exec_ids = select(Execution.id).where(Execution.id.in_(subquery))
            job_calls = select(Job.call_hash).where(Job.execution_id.in_(exec_ids))
            query = query._where(
                executions=Execution.id.in_(exec_ids),
                jobs=Job.execution_id.in_(exec_ids),
                call_nodes=CallNode.call_hash.in_(job_calls),
                tasks=Task.hash.in_(select(Job.task_hash).where(Job.execution_id.in_(exec_ids))),
                values=Value.value_hash.in_(_execution_values(job_calls)),
            )
        return query

    def order_by(self, order_by: str) -> CallGraphQuery:
        if order_by != "time":
            raise QueryError(f"Unknown order '{order_by}': only 'time' is supported.")
        return replace(self, ordered=order_by)

    def empty(self) -> CallGraphQuery:
        return self._where(**{self._attr(model): false() for model in MODEL_PKS})

    # -- results ------------------------------------------------------------------

    def build(self) -> dict[str, Select]:
        """The final statement of each selected record type."""
        statements = self._statements()
        if self.ordered == "time":
            root = select(Job.start_time).where(Job.id == Execution.job_id).scalar_subquery()
            # Ids break ties so that pages of one query never overlap.
            statements["Execution"] = statements["Execution"].order_by(root.desc(), Execution.id)
            statements["Job"] = statements["Job"].order_by(Job.start_time.desc(), Job.id)
        return {name: stmt for name, stmt in statements.items() if name in self.types}

    def all(self) -> Iterator[Base]:
        for stmt in self.build().values():
            yield from self.session.execute(stmt).scalars()

    def first(self) -> Base | None:
        return next(self.all(), None)

    def one(self) -> Base:
        results = list(islice(self.all(), 2))
        if len(results) != 1:
            raise QueryError(f"Expected exactly one record, found {len(results) or 'none'}.")
        return results[0]

    def one_or_none(self) -> Base | None:
        results = list(islice(self.all(), 2))
        return results[0] if len(results) == 1 else None

    def limit(self, size: int) -> Iterator[Base]:
        yielded = 0
        for stmt in self.build().values():
            if yielded >= size:
                return
            for record in self.session.execute(stmt.limit(size - yielded)).scalars():
                yielded += 1
                yield record

    def count(self) -> Iterator[tuple[str, int]]:
        for name, stmt in self.build().items():
            counted = select(func.count()).select_from(stmt.order_by(None).subquery())
            yield name, self.session.execute(counted).scalar_one()

    def page(self, page: int, page_size: int) -> Iterator[Base]:
        """Records of page `page` (zero-based), across record types in order."""
        offset = page * page_size
        remaining = page_size
        statements = self.build()
        for name, total in self.count():
            if remaining <= 0:
                return
            if offset >= total:
                offset -= total
                continue
            stmt = statements[name].offset(offset).limit(remaining)
            offset = 0
            for record in self.session.execute(stmt).scalars():
                remaining -= 1
                yield record

    def select(self, *columns: str, flat: bool = False) -> Iterator[Any]:
        """Yield ``id`` and/or ``type`` of each record."""
        for record in self.all():
            row = []
            for column in columns:
                if column == "id":
                    row.append(getattr(record, MODEL_PKS[type(record)].key))
                elif column == "type":
                    row.append(type(record).__name__)
                else:
                    raise QueryError(f"Unknown column '{column}': use 'id' or 'type'.")
            yield row[0] if flat else tuple(row)


class FileMatch(NamedTuple):
    """A File found by path, the job that produced (or used) it, and how.

    A tuple, so ``file, job, kind = find_file(session, path)`` works as in redun.
    """

    file: File
    job: Job
    kind: str  # "result" | "arg"


def find_file(session: Session, path: str) -> FileMatch | None:
    """The most recent File with `path`: as a result first, else as an argument.

    Files nested in lists or dicts (subvalues) count too; the most recent wins
    because it is the most likely to still be valid.
    """
    return _latest_file_use(session, path, CallNode, Job.end_time, "result") or (
        _latest_file_use(session, path, Argument, Job.start_time, "arg")
    )


def _latest_file_use(
    session: Session, path: str, model: Any, newest_first: Any, kind: str
) -> FileMatch | None:
    """The newest job whose call result (CallNode) or argument (Argument) holds the File."""
    holds_file = or_(
        model.value_hash == File.value_hash,
        model.value_hash.in_(
            select(Subvalue.parent_value_hash).where(Subvalue.value_hash == File.value_hash)
        ),
    )
    row = session.execute(
        select(File, Job)
        .select_from(File)
        .join(model, holds_file)
        .join(Job, Job.call_hash == model.call_hash)
        .where(File.path == path)
        .order_by(newest_first.desc())
        .limit(1)
    ).first()
    return FileMatch(row[0], row[1], kind) if row is not None else None


def recent_executions(session: Session) -> Select:
    """Executions, newest first (by the start of their root job)."""
    return select(Execution).join(Job, Job.id == Execution.job_id).order_by(Job.start_time.desc())


def infer_specialty_id(session: Session, id: str, include_files: bool = True) -> Any:
    """Resolve ``-`` (latest execution), ``~N`` (N-th latest) and file paths."""
    if include_files and (os.path.exists(id) or ":" in id):
        match = find_file(session, id)
        if match is not None:
            return match
    if id == "-":
        return session.execute(recent_executions(session).limit(1)).scalar()
    if re.fullmatch(r"~\d+", id):
        index = int(id[1:])
        if index == 0:
            raise QueryError("Execution index must be >= 1 (~1 is the latest).")
        found = session.execute(recent_executions(session).offset(index - 1).limit(1)).scalar()
        if found is None:
            raise QueryError(f"Execution index too high: {id} (there are fewer executions).")
        return found
    return None


def infer_id(session: Session, id: str, include_files: bool = True, required: bool = False) -> Any:
    """The record an id (or unique id prefix, ``-``, ``~N``, file path) refers to."""
    record = infer_specialty_id(session, id, include_files=include_files)
    if record is not None:
        return record
    query = CallGraphQuery(session).like_id(id)
    return query.one() if required else query.first()
