"""Prebuilt statements for the scheduler's cache checks.

Built once with bind parameters, so each lookup reuses SQLAlchemy's compiled
form and costs one indexed query.
"""

from __future__ import annotations

from sqlalchemy import Select, bindparam, func, literal, select, union_all

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


def _cse_or_single(with_context: bool) -> Select:
    """CSE candidate and single-reduction result in one round trip (kind, call_hash, value)."""
    cse = (
        select(
            literal("cse").label("kind"),
            CallNode.call_hash.label("call_hash"),
            Value.value_hash,
            Value.type,
            Value.value,
        )
        .select_from(CallNode)
        .join(Job, CallNode.call_hash == Job.call_hash)
        .join(Value, Value.value_hash == CallNode.value_hash)
        .where(
            CallNode.task_hash == bindparam("task_hash"),
            CallNode.args_hash == bindparam("args_hash"),
            func.coalesce(Job.execution_id, "") == bindparam("execution_id"),
        )
        .order_by(Job.start_time.desc())
        .limit(1)
    )
    if with_context:
        cse = _with_context(cse)
    single = (
        select(
            literal("single").label("kind"),
            Evaluation.eval_hash.label("call_hash"),
            Value.value_hash,
            Value.type,
            Value.value,
        )
        .join(Evaluation, Evaluation.value_hash == Value.value_hash)
        .where(Evaluation.eval_hash == bindparam("eval_hash"))
    )
    return union_all(select(cse.subquery()), single)


CSE_OR_SINGLE = {False: _cse_or_single(False), True: _cse_or_single(True)}

HANDLE_IS_VALID = select(Handle.is_valid).where(Handle.hash == bindparam("handle_hash"))
