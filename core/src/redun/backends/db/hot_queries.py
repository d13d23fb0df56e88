"""Prebuilt statements for the scheduler's cache checks.

Built once with bind parameters on the Core tables (no ORM), so each lookup
reuses SQLAlchemy's compiled form and costs one indexed query.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)

from redun.backends.db.schema import (
    call_node,
    call_subtree_task,
    evaluation,
    handle,
    job,
    tag,
    value,
)
from redun.tags import CONTEXT_KEY


def _with_context(stmt: Select) -> Select:
    """Only call nodes tagged with the job's context hash (``redun.context``)."""
    return stmt.join(tag, tag.c.entity_id == call_node.c.call_hash).where(
        tag.c.key == CONTEXT_KEY, tag.c.value == bindparam("context_hash", type_=tag.c.value.type)
    )


VALUE = select(value.c.type, value.c.value).where(value.c.value_hash == bindparam("value_hash"))

# The single-reduction result, plus the stored call nodes it may belong to (one
# row each): a leaf cache hit then needs no second query to skip re-recording.
_EVAL_RESULT_COLUMNS = (
    value.c.value_hash,
    value.c.type,
    value.c.value,
    evaluation.c.args_hash,
    call_node.c.call_hash,
)
_EVAL_RESULT_FROM = value.join(evaluation, evaluation.c.value_hash == value.c.value_hash).outerjoin(
    call_node,
    (call_node.c.task_hash == evaluation.c.task_hash)
    & (call_node.c.args_hash == evaluation.c.args_hash)
    & (call_node.c.value_hash == evaluation.c.value_hash),
)
EVAL_RESULT = (
    select(*_EVAL_RESULT_COLUMNS)
    .select_from(_EVAL_RESULT_FROM)
    .where(evaluation.c.eval_hash == bindparam("eval_hash"))
)


def _in_json_list(column: Any) -> ColumnElement:
    """`column` is one of the hashes bound to ``hashes`` as a JSON list (SQLite).

    A fixed text (not ``IN (?, ?, ...)``) is compiled and prepared once however
    many hashes a batch has.
    """
    listed = select(literal_column("value")).select_from(
        func.json_each(bindparam("hashes", type_=String))
    )
    return column.in_(listed)


def hash_list(dialect_name: str, hashes: Sequence[str]) -> Any:
    """The ``hashes`` parameter of `eval_results`: an array on PostgreSQL, JSON on SQLite."""
    return list(hashes) if dialect_name == "postgresql" else json.dumps(list(hashes))


@functools.cache
def eval_results(dialect_name: str) -> Select:
    """EVAL_RESULT for many evaluations at once, each row led by its eval hash.

    Built on first use per dialect: the PostgreSQL one imports SQLAlchemy's
    PostgreSQL dialect (about 35 ms), which a SQLite run never needs.

    On PostgreSQL each hash is looked up on its own (a LATERAL subquery that
    OFFSET 0 keeps from being flattened), so every step is an index lookup
    whatever the planner believes of the tables' sizes: a database written but
    not yet analyzed (the first runs on it) otherwise gets hash or merge joins
    over whole tables, 13-15 ms per 500 hashes at 10,000 rows, growing with
    the tables, against 5-7 ms this way.
    """
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        wanted = (
            select(func.unnest(bindparam("hashes", type_=ARRAY(String))).label("eval_hash"))
            .distinct()
            .subquery("wanted")
        )
        found = (
            select(*_EVAL_RESULT_COLUMNS)
            .select_from(_EVAL_RESULT_FROM)
            .where(evaluation.c.eval_hash == wanted.c.eval_hash)
            .offset(literal_column("0"))
            .lateral("found")
        )
        return select(wanted.c.eval_hash, *found.c).select_from(wanted.join(found, true()))
    return (
        select(evaluation.c.eval_hash, *_EVAL_RESULT_COLUMNS)
        .select_from(_EVAL_RESULT_FROM)
        .where(_in_json_list(evaluation.c.eval_hash))
    )


CALL_RESULT_HASH = select(call_node.c.value_hash).where(
    call_node.c.call_hash == bindparam("call_hash")
)

CALL_ARGS_HASH = select(call_node.c.args_hash).where(
    call_node.c.call_hash == bindparam("call_hash")
)

SUBTREE_TASKS = select(call_subtree_task.c.task_hash).where(
    call_subtree_task.c.call_hash == bindparam("call_hash")
)


_ULTIMATE = (
    select(call_node.c.call_hash, call_subtree_task.c.task_hash)
    .outerjoin(call_subtree_task, call_subtree_task.c.call_hash == call_node.c.call_hash)
    .where(
        call_node.c.task_hash == bindparam("task_hash"),
        call_node.c.args_hash == bindparam("args_hash"),
    )
    .order_by(call_node.c.timestamp.desc(), call_node.c.call_hash)
)
ULTIMATE = {False: _ULTIMATE, True: _with_context(_ULTIMATE)}


def _cse_or_single(with_context: bool) -> Select:
    """CSE candidate and single-reduction result in one round trip (kind, call_hash, value)."""
    cse = (
        select(
            literal("cse").label("kind"),
            call_node.c.call_hash.label("call_hash"),
            value.c.value_hash,
            value.c.type,
            value.c.value,
        )
        .select_from(call_node)
        .join(job, call_node.c.call_hash == job.c.call_hash)
        .join(value, value.c.value_hash == call_node.c.value_hash)
        .where(
            call_node.c.task_hash == bindparam("task_hash"),
            call_node.c.args_hash == bindparam("args_hash"),
            func.coalesce(job.c.execution_id, "") == bindparam("execution_id"),
        )
        .order_by(job.c.start_time.desc())
        .limit(1)
    )
    if with_context:
        cse = _with_context(cse)
    single = (
        select(
            literal("single").label("kind"),
            evaluation.c.eval_hash.label("call_hash"),
            value.c.value_hash,
            value.c.type,
            value.c.value,
        )
        .join(evaluation, evaluation.c.value_hash == value.c.value_hash)
        .where(evaluation.c.eval_hash == bindparam("eval_hash"))
    )
    return union_all(select(cse.subquery()), single)


CSE_OR_SINGLE = {False: _cse_or_single(False), True: _cse_or_single(True)}

HANDLE_IS_VALID = select(handle.c.is_valid).where(handle.c.hash == bindparam("handle_hash"))
