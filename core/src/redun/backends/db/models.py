"""SQLAlchemy ORM models of redun's call graph, mapped onto `redun.backends.db.schema`.

Used by queries, `redun log` and the console; the scheduler's hot path uses
the Core tables only, so a run never imports the ORM.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, object_session, relationship

from redun.backends.base import TagEntity
from redun.backends.db import schema
from redun.backends.db.status import (
    active_executions,
    execution_live,
    execution_status,
    job_status,
)
from redun.tags import CONTEXT_KEY

if TYPE_CHECKING:
    from redun.backends.db.backend import RedunBackendDb


class Base(DeclarativeBase):
    metadata = schema.metadata


def _current_tags(entity_column: str) -> Any:
    return relationship(
        "Tag",
        primaryjoin=f"and_({entity_column} == foreign(Tag.entity_id), Tag.is_current == True)",
        viewonly=True,
        uselist=True,
    )


class RedunVersion(Base):
    """One row per migration applied: the database's major version."""

    __table__ = schema.redun_version

    id: Mapped[str]
    version: Mapped[int]
    timestamp: Mapped[datetime]


class RedunMigration(Base):
    """Alembic's bookkeeping table, mapped so the version can be read with the ORM."""

    __table__ = schema.alembic_version

    version_num: Mapped[str]


class Subvalue(Base):
    """A value nested inside another (Files inside a list, ...)."""

    __table__ = schema.subvalue

    value_hash: Mapped[str]
    parent_value_hash: Mapped[str]

    parent: Mapped[Value] = relationship(
        "Value", foreign_keys="Subvalue.parent_value_hash", back_populates="child_edges"
    )
    child: Mapped[Value] = relationship(
        "Value", foreign_keys="Subvalue.value_hash", back_populates="parent_edges"
    )


class Value(Base):
    """A recorded argument or result, serialized (empty bytes: data is in the value store)."""

    __table__ = schema.value

    value_hash: Mapped[str]
    type: Mapped[str]
    format: Mapped[str]
    value: Mapped[bytes]

    child_edges: Mapped[list[Subvalue]] = relationship(
        "Subvalue", foreign_keys="Subvalue.parent_value_hash", back_populates="parent"
    )
    parent_edges: Mapped[list[Subvalue]] = relationship(
        "Subvalue", foreign_keys="Subvalue.value_hash", back_populates="child"
    )
    children: Mapped[list[Value]] = relationship(
        "Value",
        secondary="subvalue",
        primaryjoin="Value.value_hash == Subvalue.parent_value_hash",
        secondaryjoin="Value.value_hash == Subvalue.value_hash",
        viewonly=True,
    )
    parents: Mapped[list[Value]] = relationship(
        "Value",
        secondary="subvalue",
        primaryjoin="Value.value_hash == Subvalue.value_hash",
        secondaryjoin="Value.value_hash == Subvalue.parent_value_hash",
        viewonly=True,
    )
    file: Mapped[File | None] = relationship("File", uselist=False, back_populates="value")
    task: Mapped[Task | None] = relationship(
        "Task",
        primaryjoin="Value.value_hash == foreign(Task.hash)",
        uselist=False,
        viewonly=True,
    )
    handle: Mapped[Handle | None] = relationship(
        "Handle", uselist=False, back_populates="value", viewonly=True
    )
    arguments: Mapped[list[Argument]] = relationship("Argument", back_populates="value")
    evals: Mapped[list[Evaluation]] = relationship("Evaluation", back_populates="value")
    results: Mapped[list[CallNode]] = relationship("CallNode", back_populates="value")
    tags: Mapped[list[Tag]] = _current_tags("Value.value_hash")

    @property
    def in_value_store(self) -> bool:
        return len(self.value) == 0

    @property
    def value_parsed(self) -> Any:
        """The deserialized value (None if it cannot be decoded here)."""
        backend = _session_backend(self)
        value, _ = backend.get_value_from_row(self)
        return value

    @property
    def preview(self) -> Any:
        """The value, or a short stand-in when it is too large or cannot be decoded."""
        return _session_backend(self).preview_value_row(self)

    def __repr__(self) -> str:
        return f"Value(hash='{self.value_hash[:8]}', type='{self.type}')"


class File(Base):
    """Path of every recorded File-like value (so `redun log PATH` can find it)."""

    __table__ = schema.file

    value_hash: Mapped[str]
    path: Mapped[str]

    value: Mapped[Value] = relationship("Value", back_populates="file")
    parent_values: Mapped[list[Value]] = relationship(
        "Value",
        secondary="subvalue",
        primaryjoin="File.value_hash == Subvalue.value_hash",
        secondaryjoin="Subvalue.parent_value_hash == Value.value_hash",
        viewonly=True,
    )

    @property
    def values(self) -> list[Value]:
        return [self.value, *self.parent_values]

    def __repr__(self) -> str:
        return f"File(hash='{self.value_hash[:8]}', path='{self.path}')"


class ArgumentResult(Base):
    """Dataflow: the call node whose result flowed into an argument."""

    __table__ = schema.argument_result

    arg_hash: Mapped[str]
    result_call_hash: Mapped[str]

    arg: Mapped[Argument] = relationship("Argument", back_populates="arg_results")
    result_call_node: Mapped[CallNode] = relationship("CallNode", back_populates="arg_results")


class Argument(Base):
    """One argument (positional or keyword) of a call node."""

    __table__ = schema.argument

    arg_hash: Mapped[str]
    call_hash: Mapped[str]
    value_hash: Mapped[str]
    arg_position: Mapped[int | None]
    arg_key: Mapped[str | None]

    value: Mapped[Value] = relationship("Value", back_populates="arguments")
    call_node: Mapped[CallNode] = relationship("CallNode", back_populates="arguments")
    arg_results: Mapped[list[ArgumentResult]] = relationship("ArgumentResult", back_populates="arg")
    upstream: Mapped[list[CallNode]] = relationship(
        "CallNode",
        secondary="argument_result",
        primaryjoin="Argument.arg_hash == ArgumentResult.arg_hash",
        secondaryjoin="ArgumentResult.result_call_hash == CallNode.call_hash",
        viewonly=True,
    )

    @property
    def value_parsed(self) -> Any:
        return self.value.value_parsed


class Evaluation(Base):
    """Single-reduction cache: eval_hash -> one-step result."""

    __table__ = schema.evaluation

    eval_hash: Mapped[str]
    task_hash: Mapped[str]
    args_hash: Mapped[str]
    value_hash: Mapped[str]

    task: Mapped[Task] = relationship("Task", back_populates="evals")
    value: Mapped[Value] = relationship("Value", back_populates="evals")

    @property
    def value_parsed(self) -> Any:
        return self.value.value_parsed


class CallEdge(Base):
    """Ordered parent -> child edge of the call graph."""

    __table__ = schema.call_edge

    parent_id: Mapped[str]
    child_id: Mapped[str]
    call_order: Mapped[int]

    parent_node: Mapped[CallNode] = relationship(
        "CallNode", foreign_keys="CallEdge.parent_id", back_populates="child_edges"
    )
    child_node: Mapped[CallNode] = relationship(
        "CallNode", foreign_keys="CallEdge.child_id", back_populates="parent_edges"
    )


class CallNode(Base):
    """A call of a task on arguments and its (ultimate) result."""

    __table__ = schema.call_node

    call_hash: Mapped[str]
    task_name: Mapped[str]
    task_hash: Mapped[str]
    args_hash: Mapped[str]
    value_hash: Mapped[str]
    timestamp: Mapped[datetime]

    task: Mapped[Task] = relationship("Task", back_populates="call_nodes")
    value: Mapped[Value] = relationship("Value", back_populates="results")
    arguments: Mapped[list[Argument]] = relationship(
        "Argument", back_populates="call_node", order_by="Argument.arg_position"
    )
    arg_results: Mapped[list[ArgumentResult]] = relationship(
        "ArgumentResult", back_populates="result_call_node"
    )
    downstream: Mapped[list[Argument]] = relationship(
        "Argument",
        secondary="argument_result",
        primaryjoin="ArgumentResult.result_call_hash == CallNode.call_hash",
        secondaryjoin="Argument.arg_hash == ArgumentResult.arg_hash",
        viewonly=True,
    )
    child_edges: Mapped[list[CallEdge]] = relationship(
        "CallEdge",
        foreign_keys="CallEdge.parent_id",
        back_populates="parent_node",
        order_by="CallEdge.call_order",
    )
    parent_edges: Mapped[list[CallEdge]] = relationship(
        "CallEdge", foreign_keys="CallEdge.child_id", back_populates="child_node"
    )
    task_set: Mapped[list[CallSubtreeTask]] = relationship(
        "CallSubtreeTask", back_populates="call_node"
    )
    jobs: Mapped[list[Job]] = relationship("Job", back_populates="call_node")
    tags: Mapped[list[Tag]] = _current_tags("CallNode.call_hash")

    @property
    def children(self) -> list[CallNode]:
        """Child call nodes in call order (repeats kept)."""
        return [edge.child_node for edge in self.child_edges]

    @property
    def parents(self) -> list[CallNode]:
        return [edge.parent_node for edge in self.parent_edges]

    @property
    def value_parsed(self) -> Any:
        return self.value.value_parsed

    def __repr__(self) -> str:
        return f"CallNode(hash='{self.call_hash[:8]}', task_name='{self.task_name}')"


class CallSubtreeTask(Base):
    """Every task used below a call node (ultimate-reduction validity)."""

    __table__ = schema.call_subtree_task

    call_hash: Mapped[str]
    task_hash: Mapped[str]

    call_node: Mapped[CallNode] = relationship("CallNode", back_populates="task_set")


class HandleEdge(Base):
    __table__ = schema.handle_edge

    parent_id: Mapped[str]
    child_id: Mapped[str]


class Handle(Base):
    """A recorded state of a Handle (database connection, ...)."""

    __table__ = schema.handle

    hash: Mapped[str]
    fullname: Mapped[str]
    value_hash: Mapped[str]
    key: Mapped[str]
    is_valid: Mapped[bool]

    value: Mapped[Value] = relationship("Value", back_populates="handle")
    children: Mapped[list[Handle]] = relationship(
        "Handle",
        secondary="handle_edge",
        primaryjoin="Handle.hash == HandleEdge.parent_id",
        secondaryjoin="Handle.hash == HandleEdge.child_id",
        viewonly=True,
    )
    parents: Mapped[list[Handle]] = relationship(
        "Handle",
        secondary="handle_edge",
        primaryjoin="Handle.hash == HandleEdge.child_id",
        secondaryjoin="Handle.hash == HandleEdge.parent_id",
        viewonly=True,
    )


class Execution(Base):
    """One `redun run` (or `Scheduler.run`): its command line and root job."""

    __table__ = schema.execution

    id: Mapped[str]
    args: Mapped[str]
    job_id: Mapped[str]
    updated_time: Mapped[datetime | None]

    job: Mapped[Job] = relationship("Job", foreign_keys="Execution.job_id")
    jobs: Mapped[list[Job]] = relationship(
        "Job",
        primaryjoin="Job.execution_id == Execution.id",
        back_populates="execution",
        viewonly=True,
    )
    tags: Mapped[list[Tag]] = _current_tags("Execution.id")

    @property
    def call_node(self) -> CallNode | None:
        return self.job.call_node if self.job else None

    @property
    def task(self) -> Task | None:
        return self.job.task if self.job else None

    @property
    def status(self) -> str:
        return execution_status(
            self.job.status if self.job else None, self.updated_time, jobs_active=self._jobs_active
        )

    @property
    def live(self) -> bool:
        """Whether it shows a sign of life (see `redun.backends.db.status.execution_live`)."""
        return execution_live(self.updated_time, self._jobs_active)

    def _jobs_active(self) -> bool:
        """Whether a job of this execution started or ended lately (see `execution_status`):
        asked once while the instance's attributes are loaded, so the status of each of
        its jobs costs no query of its own (a commit, rollback or expire asks again)."""
        if JOBS_ACTIVE in self.__dict__:
            return self.__dict__[JOBS_ACTIVE]
        session = object_session(self)
        if session is None:
            return False
        recent = active_executions().subquery()
        found = select(recent.c.execution_id).where(recent.c.execution_id == self.id).limit(1)
        answer = self.__dict__[JOBS_ACTIVE] = session.scalar(found) is not None
        return answer

    @property
    def status_display(self) -> str:
        return "RUN " if self.status == "RUNNING" else self.status

    def __repr__(self) -> str:
        return f"Execution(id='{self.id[:8]}', args={self.args})"


JOBS_ACTIVE = "_jobs_active_answer"


@event.listens_for(Execution, "expire")
def _forget_jobs_active(target: Execution | None, attrs: Any) -> None:
    if target is not None:  # None: the instance is already gone
        target.__dict__.pop(JOBS_ACTIVE, None)


@event.listens_for(Execution, "refresh")
def _forget_jobs_active_on_refresh(target: Execution, context: Any, attrs: Any) -> None:
    target.__dict__.pop(JOBS_ACTIVE, None)


class Job(Base):
    """One evaluation of a task call within an execution."""

    __table__ = schema.job

    id: Mapped[str]
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    task_hash: Mapped[str]
    cached: Mapped[bool]
    call_hash: Mapped[str | None]
    parent_id: Mapped[str | None]
    execution_id: Mapped[str]

    task: Mapped[Task] = relationship("Task", back_populates="jobs")
    call_node: Mapped[CallNode | None] = relationship("CallNode", back_populates="jobs")
    parent_job: Mapped[Job | None] = relationship(
        "Job", remote_side="Job.id", back_populates="child_jobs"
    )
    child_jobs: Mapped[list[Job]] = relationship(
        "Job", back_populates="parent_job", order_by="Job.start_time"
    )
    execution: Mapped[Execution] = relationship(
        "Execution", foreign_keys="Job.execution_id", back_populates="jobs"
    )
    tags: Mapped[list[Tag]] = _current_tags("Job.id")

    @property
    def status(self) -> str:
        """RUNNING, STOPPED, FAILED, CACHED or DONE."""
        result_type = self.call_node.value.type if self.call_node else None
        return job_status(result_type, self.end_time, self.cached, self._execution_live)

    def _execution_live(self) -> bool:
        """Whether its execution is live (a job without a recorded execution is)."""
        return self.execution is None or self.execution.live

    @property
    def status_display(self) -> str:
        return "RUN " if self.status == "RUNNING" else self.status

    @property
    def duration(self) -> timedelta | None:
        return self.end_time - self.start_time if self.end_time else None

    @property
    def context(self) -> dict:
        """The context this job ran under (empty when it was recorded only as a hash)."""
        if not self.call_node:
            return {}
        for tag in self.call_node.tags:
            if tag.key == CONTEXT_KEY:
                value = object_session(self).get(Value, tag.value)
                parsed = value.value_parsed if value is not None else None
                return parsed if isinstance(parsed, dict) else {}
        return {}

    def __repr__(self) -> str:
        return f"Job(id='{self.id[:8]}', task_hash='{self.task_hash[:8]}')"


class Task(Base):
    """Companion row of a recorded Task value (also stored in `value`, same hash)."""

    __table__ = schema.task

    hash: Mapped[str]
    name: Mapped[str]
    namespace: Mapped[str]
    source: Mapped[str]

    value: Mapped[Value | None] = relationship(
        "Value",
        primaryjoin="foreign(Task.hash) == Value.value_hash",
        uselist=False,
        viewonly=True,
    )
    evals: Mapped[list[Evaluation]] = relationship("Evaluation", back_populates="task")
    call_nodes: Mapped[list[CallNode]] = relationship("CallNode", back_populates="task")
    jobs: Mapped[list[Job]] = relationship("Job", back_populates="task")
    tags: Mapped[list[Tag]] = _current_tags("Task.hash")

    @property
    def fullname(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name

    def __repr__(self) -> str:
        return f"Task(hash='{self.hash[:8]}', name='{self.fullname}')"


class TagEdit(Base):
    """Tag history: `child_id` supersedes (or deletes) `parent_id`."""

    __table__ = schema.tag_edit

    parent_id: Mapped[str]
    child_id: Mapped[str]


class Tag(Base):
    """An immutable, content-hashed key/value on an entity; edits add children."""

    __table__ = schema.tag

    tag_hash: Mapped[str]
    entity_type: Mapped[TagEntity]
    entity_id: Mapped[str]
    key: Mapped[str]
    value: Mapped[Any]
    is_current: Mapped[bool]

    parents: Mapped[list[Tag]] = relationship(
        "Tag",
        secondary="tag_edit",
        primaryjoin="Tag.tag_hash == TagEdit.child_id",
        secondaryjoin="Tag.tag_hash == TagEdit.parent_id",
        viewonly=True,
    )
    children: Mapped[list[Tag]] = relationship(
        "Tag",
        secondary="tag_edit",
        primaryjoin="Tag.tag_hash == TagEdit.parent_id",
        secondaryjoin="Tag.tag_hash == TagEdit.child_id",
        viewonly=True,
    )

    @property
    def base_key(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def namespace(self) -> str:
        return self.key.rsplit(".", 1)[0] if "." in self.key else ""

    @property
    def entity(self) -> Any:
        """The tagged Execution, Job, CallNode, Task or Value."""
        model = ENTITY_MODELS.get(self.entity_type)
        if model is None:
            return None
        return object_session(self).get(model, self.entity_id)

    def __repr__(self) -> str:
        return f"Tag(tag_hash={self.tag_hash[:8]}, key={self.key}, value={self.value!r})"


ENTITY_MODELS: dict[TagEntity, type[Base]] = {
    TagEntity.Execution: Execution,
    TagEntity.Job: Job,
    TagEntity.CallNode: CallNode,
    TagEntity.Task: Task,
    TagEntity.Value: Value,
}


def _session_backend(row: Base) -> Any:
    session = object_session(row)
    backend = getattr(session, "backend", None)
    if backend is None:
        raise RuntimeError(
            "This row was loaded outside a redun backend session: use backend.session."
        )
    return backend


class RedunSession(Session):
    """An ORM session that knows its backend (rows use it to decode values)."""

    def __init__(self, backend: RedunBackendDb, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend
