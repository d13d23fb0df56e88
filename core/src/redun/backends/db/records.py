"""Records: the call graph as JSON-ready dicts (redun's format, ``_version`` 1).

Used by `redun export`/`import` and by push/pull between repositories. A
record graph is walked breadth-first from root ids: Execution -> root Job;
Job -> Task value, CallNode, child Jobs; CallNode -> Task, result and argument
Values, upstream and child CallNodes; Value -> subvalues; Tag -> parent and
child tags; any record -> its tags.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from redun.backends.base import TagEntity
from redun.backends.db.buffer import WriteBuffer, insert_ignore
from redun.backends.db.errors import RedunDatabaseError
from redun.backends.db.models import (
    Argument,
    ArgumentResult,
    CallEdge,
    CallNode,
    CallSubtreeTask,
    Execution,
    File,
    Job,
    Subvalue,
    Tag,
    TagEdit,
    Task,
    Value,
)
from redun.backends.db.status import job_status, stale_clause

VERSION = 1
CHUNK = 500
RECORD_TYPES = ("Execution", "Job", "CallNode", "Value", "Tag")
PK_FIELDS = {
    "Execution": "id",
    "Job": "id",
    "CallNode": "call_hash",
    "Value": "value_hash",
    "Tag": "tag_hash",
}
# What `put_records` reads from each kind of record (beyond _version and _type).
REQUIRED_FIELDS = {
    "Execution": ("id", "args", "job_id"),
    "Job": (
        "id",
        "start_time",
        "end_time",
        "task_hash",
        "cached",
        "call_hash",
        "parent_id",
        "execution_id",
    ),
    "CallNode": (
        "call_hash",
        "task_name",
        "task_hash",
        "args_hash",
        "value_hash",
        "timestamp",
        "args",
        "children",
    ),
    "Value": ("value_hash", "type", "format", "data", "subvalues"),
    "Tag": ("tag_hash", "entity_type", "entity_id", "key", "value", "parents"),
}
PK_COLUMNS = {
    "Execution": Execution.id,
    "Job": Job.id,
    "CallNode": CallNode.call_hash,
    "Value": Value.value_hash,
    "Tag": Tag.tag_hash,
}


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _rows_in(connection: Connection, stmt: Any, column: Any, ids: list[str]) -> Iterator[Any]:
    for chunk in _chunks(ids):
        yield from connection.execute(stmt.where(column.in_(chunk)))


def _timestamp(value: datetime | None) -> str | None:
    return str(value) if value else None


def _parse_timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def get_pk(record: dict) -> str:
    try:
        return record[PK_FIELDS[record["_type"]]]
    except KeyError as error:
        raise RedunDatabaseError(
            f"Not a redun record (missing {error}): {str(record)[:100]}"
        ) from None


# -- walking --------------------------------------------------------------------


def _record_types(connection: Connection, ids: list[str]) -> Iterator[tuple[str, str]]:
    for record_type in RECORD_TYPES:
        column = PK_COLUMNS[record_type]
        for (record_id,) in _rows_in(connection, select(column), column, ids):
            yield record_type, record_id


def _child_edges(connection: Connection, typed_ids: dict[str, list[str]]) -> Iterator[tuple]:
    ids = typed_ids.get("Execution", [])
    for (job_id,) in _rows_in(connection, select(Execution.job_id), Execution.id, ids):
        yield "Job", job_id
    ids = typed_ids.get("Job", [])
    for task_hash, call_hash in _rows_in(
        connection, select(Job.task_hash, Job.call_hash), Job.id, ids
    ):
        yield "Value", task_hash
        if call_hash:
            yield "CallNode", call_hash
    for (job_id,) in _rows_in(connection, select(Job.id), Job.parent_id, ids):
        yield "Job", job_id
    ids = typed_ids.get("CallNode", [])
    for task_hash, value_hash in _rows_in(
        connection, select(CallNode.task_hash, CallNode.value_hash), CallNode.call_hash, ids
    ):
        yield "Value", task_hash
        yield "Value", value_hash
    stmt = select(Argument.value_hash, ArgumentResult.result_call_hash).outerjoin(
        ArgumentResult, ArgumentResult.arg_hash == Argument.arg_hash
    )
    for value_hash, upstream in _rows_in(connection, stmt, Argument.call_hash, ids):
        yield "Value", value_hash
        if upstream:
            yield "CallNode", upstream
    for (child,) in _rows_in(connection, select(CallEdge.child_id), CallEdge.parent_id, ids):
        yield "CallNode", child
    ids = typed_ids.get("Value", [])
    for (child,) in _rows_in(
        connection, select(Subvalue.value_hash), Subvalue.parent_value_hash, ids
    ):
        yield "Value", child
    ids = typed_ids.get("Tag", [])
    for (parent,) in _rows_in(connection, select(TagEdit.parent_id), TagEdit.child_id, ids):
        yield "Tag", parent
    for (child,) in _rows_in(connection, select(TagEdit.child_id), TagEdit.parent_id, ids):
        yield "Tag", child
    all_ids = [record_id for record_ids in typed_ids.values() for record_id in record_ids]
    for (tag_hash,) in _rows_in(connection, select(Tag.tag_hash), Tag.entity_id, all_ids):
        yield "Tag", tag_hash


def iter_record_ids(connection: Connection, root_ids: list[str]) -> Iterator[str]:
    """Ids of every record reachable from `root_ids`, layer by layer."""
    seen: set[str] = set()
    edges: Iterable[tuple[str, str]] = list(_record_types(connection, root_ids))
    while True:
        layer: dict[str, list[str]] = defaultdict(list)
        for record_type, record_id in edges:
            if record_id not in seen:
                seen.add(record_id)
                layer[record_type].append(record_id)
                yield record_id
        if not layer:
            return
        edges = list(_child_edges(connection, layer))


def has_records(connection: Connection, ids: list[str]) -> list[str]:
    existing = {record_id for _, record_id in _record_types(connection, ids)}
    return [record_id for record_id in ids if record_id in existing]


# -- serializing ------------------------------------------------------------------


def _serialize_executions(connection: Connection, ids: list[str]) -> Iterator[dict]:
    stmt = select(Execution.id, Execution.args, Execution.job_id)
    for row in _rows_in(connection, stmt, Execution.id, ids):
        yield {
            "_version": VERSION,
            "_type": "Execution",
            "id": row.id,
            "args": row.args,
            "job_id": row.job_id,
        }


def _serialize_jobs(connection: Connection, ids: list[str]) -> Iterator[dict]:
    children: dict[str, list[str]] = defaultdict(list)
    stmt = select(Job.parent_id, Job.id).order_by(Job.start_time)
    for parent_id, child_id in _rows_in(connection, stmt, Job.parent_id, ids):
        children[parent_id].append(child_id)
    stmt = select(Job.__table__, Value.type.label("result_type"))
    stmt = stmt.outerjoin(CallNode, CallNode.call_hash == Job.call_hash)
    stmt = stmt.outerjoin(Value, Value.value_hash == CallNode.value_hash)
    for chunk in _chunks(ids):
        yield from _job_records(connection, stmt.where(Job.id.in_(chunk)), children)


def _job_records(connection: Connection, stmt: Any, children: dict) -> Iterator[dict]:
    jobs = connection.execute(stmt).all()
    # Liveness once per execution, asked only about those with an unfinished job.
    unfinished = {job.execution_id for job in jobs if job.end_time is None} - {None}
    dead: set[str] = set()
    if unfinished:
        ids = select(Execution.id).where(Execution.id.in_(unfinished), stale_clause(Execution))
        dead = set(connection.scalars(ids))
    for job in jobs:
        yield {
            "_version": VERSION,
            "_type": "Job",
            "id": job.id,
            "start_time": _timestamp(job.start_time),
            "end_time": _timestamp(job.end_time),
            "task_hash": job.task_hash,
            "cached": job.cached,
            "status": job_status(
                job.result_type, job.end_time, job.cached, job.execution_id not in dead
            ),
            "call_hash": job.call_hash,
            "parent_id": job.parent_id,
            "children": children[job.id],
            "execution_id": job.execution_id,
        }


def _serialize_call_nodes(connection: Connection, ids: list[str]) -> Iterator[dict]:
    upstream: dict[str, list[str]] = defaultdict(list)
    stmt = select(ArgumentResult.arg_hash, ArgumentResult.result_call_hash).join(
        Argument, Argument.arg_hash == ArgumentResult.arg_hash
    )
    for arg_hash, call_hash in _rows_in(connection, stmt, Argument.call_hash, ids):
        upstream[arg_hash].append(call_hash)
    args: dict[str, dict] = defaultdict(dict)
    for arg in _rows_in(connection, select(Argument.__table__), Argument.call_hash, ids):
        name = arg.arg_key or str(arg.arg_position)
        args[arg.call_hash][name] = {
            "arg_hash": arg.arg_hash,
            "value_hash": arg.value_hash,
            "upstream": sorted(upstream[arg.arg_hash]),
        }
    children: dict[str, list[str]] = defaultdict(list)
    stmt = select(CallEdge.parent_id, CallEdge.child_id).order_by(CallEdge.call_order)
    for parent, child in _rows_in(connection, stmt, CallEdge.parent_id, ids):
        children[parent].append(child)
    for node in _rows_in(connection, select(CallNode.__table__), CallNode.call_hash, ids):
        yield {
            "_version": VERSION,
            "_type": "CallNode",
            "call_hash": node.call_hash,
            "task_name": node.task_name,
            "task_hash": node.task_hash,
            "args_hash": node.args_hash,
            "value_hash": node.value_hash,
            "timestamp": _timestamp(node.timestamp),
            "args": args[node.call_hash],
            "children": children[node.call_hash],
        }


def _serialize_values(connection: Connection, ids: list[str]) -> Iterator[dict]:
    subvalues: dict[str, list[str]] = defaultdict(list)
    stmt = select(Subvalue.parent_value_hash, Subvalue.value_hash)
    for parent, child in _rows_in(connection, stmt, Subvalue.parent_value_hash, ids):
        subvalues[parent].append(child)
    files = dict(_rows_in(connection, select(File.value_hash, File.path), File.value_hash, ids))
    tasks = {
        task.hash: task for task in _rows_in(connection, select(Task.__table__), Task.hash, ids)
    }
    for value in _rows_in(connection, select(Value.__table__), Value.value_hash, ids):
        subtype: dict | None = None
        if value.value_hash in files:
            subtype = {"_type": "File", "path": files[value.value_hash]}
        elif value.value_hash in tasks:
            task = tasks[value.value_hash]
            subtype = {
                "_type": "Task",
                "name": task.name,
                "namespace": task.namespace,
                "source": task.source,
            }
        yield {
            "_version": VERSION,
            "_type": "Value",
            "value_hash": value.value_hash,
            "type": value.type,
            "format": value.format,
            "data": b64encode(value.value).decode("utf8"),
            "subvalues": sorted(subvalues[value.value_hash]),
            "subtype": subtype,
        }


def _serialize_tags(connection: Connection, ids: list[str]) -> Iterator[dict]:
    parents: dict[str, list[str]] = defaultdict(list)
    stmt = select(TagEdit.child_id, TagEdit.parent_id)
    for child, parent in _rows_in(connection, stmt, TagEdit.child_id, ids):
        parents[child].append(parent)
    for tag in _rows_in(connection, select(Tag.__table__), Tag.tag_hash, ids):
        yield {
            "_version": VERSION,
            "_type": "Tag",
            "tag_hash": tag.tag_hash,
            "entity_type": tag.entity_type.name,
            "entity_id": tag.entity_id,
            "key": tag.key,
            "value": tag.value,
            "parents": sorted(parents[tag.tag_hash]),
        }


SERIALIZERS = {
    "Execution": _serialize_executions,
    "Job": _serialize_jobs,
    "CallNode": _serialize_call_nodes,
    "Value": _serialize_values,
    "Tag": _serialize_tags,
}


def get_records(connection: Connection, ids: list[str], keep_order: bool = True) -> Iterator[dict]:
    typed: dict[str, list[str]] = defaultdict(list)
    for record_type, record_id in _record_types(connection, ids):
        typed[record_type].append(record_id)
    serialized = (
        record
        for record_type, record_ids in typed.items()
        for record in SERIALIZERS[record_type](connection, record_ids)
    )
    if not keep_order:
        yield from serialized
        return
    by_id = {get_pk(record): record for record in serialized}
    for record_id in ids:
        if record_id in by_id:
            yield by_id[record_id]


# -- inserting ----------------------------------------------------------------------


def _check(record: dict) -> None:
    """One line naming what is wrong with a record to import, before anything is written."""
    kind = record.get("_type") if isinstance(record, dict) else None
    if kind not in REQUIRED_FIELDS:
        raise RedunDatabaseError(
            f"Not a redun record (_type {kind!r}): {str(record)[:100]}; import only files "
            "written by redun export."
        )
    if record.get("_version") != VERSION:
        raise RedunDatabaseError(
            f"Unsupported record version {record.get('_version')!r} (expected {VERSION}) "
            f"for {kind} {record.get(PK_FIELDS[kind], '?')}: re-export with a matching redun."
        )
    missing = [name for name in (PK_FIELDS[kind], *REQUIRED_FIELDS[kind]) if name not in record]
    if missing:
        raise RedunDatabaseError(
            f"The {kind} record {record.get(PK_FIELDS[kind], '?')} lacks "
            f"{', '.join(missing)}: the file is damaged or was not written by redun export; "
            "nothing was imported."
        )


def _roots_first(jobs: list[dict]) -> list[dict]:
    """Parents before children, so job.parent_id holds at every insert."""
    by_id = {job["id"]: job for job in jobs}
    ordered: list[dict] = []
    placed: set[str] = set()
    for job in jobs:
        chain = []
        current: dict | None = job
        while current is not None and current["id"] not in placed:
            chain.append(current)
            placed.add(current["id"])
            current = by_id.get(current["parent_id"]) if current["parent_id"] else None
        ordered.extend(reversed(chain))
    return ordered


def put_records(connection: Connection, records: list[dict]) -> int:
    """Insert records not present yet; return how many were new.

    The rows go through the scheduler's write buffer, so they are inserted in
    its order (parents before children) by the same statements.
    """
    for record in records:
        _check(record)
    existing = set(has_records(connection, [get_pk(record) for record in records]))
    new: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        pk = get_pk(record)
        if pk not in existing:
            existing.add(pk)
            new[record["_type"]].append(record)
    buffer = WriteBuffer()
    _buffer_values(buffer, new["Value"])
    _buffer_call_nodes(buffer, new["CallNode"])
    for r in _roots_first(new["Job"]):
        buffer.jobs[r["id"]] = {
            "id": r["id"],
            "start_time": _parse_timestamp(r["start_time"]),
            "end_time": _parse_timestamp(r["end_time"]),
            "task_hash": r["task_hash"],
            "cached": r["cached"],
            "call_hash": r["call_hash"],
            "parent_id": r["parent_id"],
            "execution_id": r["execution_id"],
        }
    for r in new["Execution"]:
        buffer.executions[r["id"]] = {
            "id": r["id"],
            "args": r["args"],
            "job_id": r["job_id"],
            "updated_time": None,
        }
    for r in new["Tag"]:
        buffer.tags[r["tag_hash"]] = {
            "tag_hash": r["tag_hash"],
            "entity_type": TagEntity(r["entity_type"]),
            "entity_id": r["entity_id"],
            "key": r["key"],
            "value": r["value"],
            "is_current": True,
        }
        buffer.tag_edits.update((parent, r["tag_hash"]) for parent in r["parents"])
    buffer.write(connection)
    _rebuild_subtree_tasks(connection, [r["call_hash"] for r in new["CallNode"]])
    if new["Tag"]:
        # Only tags without children are current.
        connection.execute(
            update(Tag)
            .where(Tag.tag_hash.in_(select(TagEdit.parent_id)), Tag.is_current.is_(True))
            .values(is_current=False)
        )
    return sum(len(group) for group in new.values())


def _buffer_values(buffer: WriteBuffer, values: list[dict]) -> None:
    for r in values:
        value_hash = r["value_hash"]
        buffer.values[value_hash] = {
            "value_hash": value_hash,
            "type": r["type"],
            "format": r["format"],
            "value": b64decode(r["data"]),
        }
        buffer.subvalues.update((child, value_hash) for child in r["subvalues"])
        subtype = r.get("subtype")
        if not subtype:
            continue
        if subtype["_type"] == "File":
            buffer.files[value_hash] = {"value_hash": value_hash, "path": subtype["path"]}
        elif subtype["_type"] == "Task":
            buffer.tasks[value_hash] = {
                "hash": value_hash,
                "name": subtype["name"],
                "namespace": subtype["namespace"],
                "source": subtype["source"],
            }


def _buffer_call_nodes(buffer: WriteBuffer, nodes: list[dict]) -> None:
    """Call nodes with their edges and arguments; their subtree task sets are not part of
    records and are rebuilt once they are in the database (`_rebuild_subtree_tasks`)."""
    for r in nodes:
        call_hash = r["call_hash"]
        buffer.call_nodes[call_hash] = {
            "call_hash": call_hash,
            "task_name": r["task_name"],
            "task_hash": r["task_hash"],
            "args_hash": r["args_hash"],
            "value_hash": r["value_hash"],
            "timestamp": _parse_timestamp(r["timestamp"]),
        }
        buffer.call_edges.extend(
            {"parent_id": call_hash, "child_id": child, "call_order": order}
            for order, child in enumerate(r["children"])
        )
        for name, arg in r["args"].items():
            buffer.arguments[arg["arg_hash"]] = {
                "arg_hash": arg["arg_hash"],
                "call_hash": call_hash,
                "value_hash": arg["value_hash"],
                "arg_position": int(name) if name.isdigit() else None,
                "arg_key": None if name.isdigit() else name,
            }
            buffer.argument_results.update((arg["arg_hash"], up) for up in arg["upstream"])


def _rebuild_subtree_tasks(connection: Connection, call_hashes: list[str]) -> None:
    """Subtree task sets are not part of records; derive them from the call edges
    so that ultimate-reduction cache checks stay exact on imported call nodes."""
    if not call_hashes:
        return
    wanted = set(call_hashes)
    tasks: dict[str, str] = {}
    children: dict[str, list[str]] = defaultdict(list)
    frontier = list(wanted)
    seen: set[str] = set()
    while frontier:
        batch = [h for h in frontier if h not in seen]
        seen.update(batch)
        frontier = []
        stmt = select(CallNode.call_hash, CallNode.task_hash)
        for call_hash, task_hash in _rows_in(connection, stmt, CallNode.call_hash, batch):
            tasks[call_hash] = task_hash
        stmt = select(CallEdge.parent_id, CallEdge.child_id)
        for parent, child in _rows_in(connection, stmt, CallEdge.parent_id, batch):
            children[parent].append(child)
            frontier.append(child)
    known: dict[str, set[str]] = defaultdict(set)
    outside = [h for h in seen if h not in wanted]
    stmt = select(CallSubtreeTask.call_hash, CallSubtreeTask.task_hash)
    for call_hash, task_hash in _rows_in(connection, stmt, CallSubtreeTask.call_hash, outside):
        known[call_hash].add(task_hash)
    done = set(known)
    # Post-order over the DAG (call hashes are Merkle hashes: no cycles), iteratively
    # so that deep call chains do not hit the recursion limit.
    for root in call_hashes:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if expanded:
                subtree = {tasks[node]} if node in tasks else set()
                for child in children[node]:
                    subtree |= known[child]
                known[node] = subtree
                done.add(node)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in children[node] if child not in done)

    insert_ignore(
        connection,
        CallSubtreeTask.__table__,
        [
            {"call_hash": call_hash, "task_hash": task_hash}
            for call_hash in call_hashes
            for task_hash in known[call_hash]
        ],
    )
