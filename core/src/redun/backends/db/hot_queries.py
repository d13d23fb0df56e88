"""Prebuilt statements for the scheduler's cache checks.

Built once with bind parameters, so each lookup reuses SQLAlchemy's compiled
form and costs one indexed query.
"""

from __future__ import annotations

from sqlalchemy import Select, bindparam, func, select

from redun.backends.db.models import (
    CallNode,
    CallSubtreeTask,
    Evaluation,
    Handle,
    Job,
    Tag,
    Value,
)
from redun.tags import CONTEXT_KEY


def _with_context(stmt: Select) -> Select:
    """Only call nodes tagged with the job's context hash (``redun.context``)."""
    return stmt.join(Tag, Tag.entity_id == CallNode.call_hash).where(
        Tag.key == CONTEXT_KEY, Tag.value == bindparam("context_hash", type_=Tag.value.type)
    )


VALUE = select(Value.type, Value.value).where(Value.value_hash == bindparam("value_hash"))

EVAL_RESULT = (
    select(Value.value_hash, Value.type, Value.value)
    .join(Evaluation, Evaluation.value_hash == Value.value_hash)
    .where(Evaluation.eval_hash == bindparam("eval_hash"))
)

CALL_RESULT_HASH = select(CallNode.value_hash).where(CallNode.call_hash == bindparam("call_hash"))

CALL_ARGS_HASH = select(CallNode.args_hash).where(CallNode.call_hash == bindparam("call_hash"))

SUBTREE_TASKS = select(CallSubtreeTask.task_hash).where(
    CallSubtreeTask.call_hash == bindparam("call_hash")
)

_CSE = (
    select(CallNode.call_hash)
    .join(Job, CallNode.call_hash == Job.call_hash)
    .where(
        CallNode.task_hash == bindparam("task_hash"),
        CallNode.args_hash == bindparam("args_hash"),
        # Wrapped so planners without statistics (SQLite) do not scan a whole
        # execution's jobs: the few call nodes of these arguments come first.
        func.coalesce(Job.execution_id, "") == bindparam("execution_id"),
    )
    .order_by(Job.start_time.desc())
    .limit(1)
)
CSE = {False: _CSE, True: _with_context(_CSE)}

_ULTIMATE = (
    select(CallNode.call_hash, CallSubtreeTask.task_hash)
    .outerjoin(CallSubtreeTask, CallSubtreeTask.call_hash == CallNode.call_hash)
    .where(
        CallNode.task_hash == bindparam("task_hash"),
        CallNode.args_hash == bindparam("args_hash"),
    )
    .order_by(CallNode.timestamp.desc(), CallNode.call_hash)
)
ULTIMATE = {False: _ULTIMATE, True: _with_context(_ULTIMATE)}

HANDLE_IS_VALID = select(Handle.is_valid).where(Handle.hash == bindparam("handle_hash"))
