"""redun's call-graph tables (database schema version 3.5), in SQLAlchemy Core.

The scheduler's read and write paths use these tables directly, so a run never
imports or configures the ORM; `redun.backends.db.models` maps its classes onto
the same tables for queries, `redun log` and the console.

Table, column, index and type names are redun's: a database written by
redun 0.44 opens unchanged, and one written here opens in redun.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex

from redun.backends.base import TagEntity
from redun.backends.db.types import JSON, DateTimeUTC, utcnow

HASH_LEN = 40
LOOKUP_INDEX = "ix_call_node_task_hash_args_hash"

metadata = MetaData()

# PostgreSQL-only index options, by index name. They are given to an index when
# it is created on PostgreSQL: declared up front, they would import SQLAlchemy's
# PostgreSQL dialect in every run, on SQLite too.
_POSTGRESQL_INDEX_OPTIONS: dict[str, dict[str, Any]] = {
    "ix_tag_tag_hash_current": {"postgresql_where": text("is_current")},
}


def _col(name: str, *args: Any, **kwargs: Any) -> Column:
    kwargs.setdefault("nullable", False)
    return Column(name, *args, **kwargs)


def _hash_col(name: str, *args: Any, **kwargs: Any) -> Column:
    return _col(name, String(HASH_LEN), *args, **kwargs)


def _vpo_index(name: str, column: str, unique: bool) -> Index:
    """Index usable for prefix (LIKE 'abc%') search on PostgreSQL."""
    _POSTGRESQL_INDEX_OPTIONS[name] = {"postgresql_ops": {column: "varchar_pattern_ops"}}
    return Index(name, column, unique=unique)


@compiles(CreateIndex, "postgresql")
def _create_index_on_postgresql(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    options = _POSTGRESQL_INDEX_OPTIONS.get(str(create.element.name))
    if options:
        create.element.dialect_kwargs.update(options)
    return compiler.visit_create_index(create, **kw)


def _new_id() -> str:
    return str(uuid.uuid4())


redun_version = Table(
    "redun_version",
    metadata,
    _col("id", String, primary_key=True, default=_new_id),
    _col("version", Integer, comment="Current database version."),
    _col("timestamp", DateTimeUTC, default=utcnow),
)

alembic_version = Table(
    "alembic_version",
    metadata,
    _col("version_num", String(32), primary_key=True),
)

subvalue = Table(
    "subvalue",
    metadata,
    _hash_col("value_hash", ForeignKey("value.value_hash"), primary_key=True, index=True),
    _hash_col("parent_value_hash", ForeignKey("value.value_hash"), primary_key=True, index=True),
)

value = Table(
    "value",
    metadata,
    _hash_col("value_hash", primary_key=True),
    _col("type", String(length=None), index=True),
    _col("format", String(100)),
    _col("value", LargeBinary()),
    _vpo_index("ix_value_value_hash_vpo", "value_hash", unique=True),
)

file = Table(
    "file",
    metadata,
    _hash_col("value_hash", ForeignKey("value.value_hash"), primary_key=True),
    _col("path", String(1024), index=True),
)

argument_result = Table(
    "argument_result",
    metadata,
    _hash_col("arg_hash", ForeignKey("argument.arg_hash"), primary_key=True, index=True),
    _hash_col("result_call_hash", ForeignKey("call_node.call_hash"), primary_key=True, index=True),
)

argument = Table(
    "argument",
    metadata,
    _hash_col("arg_hash", primary_key=True),
    _hash_col("call_hash", ForeignKey("call_node.call_hash"), index=True),
    _hash_col("value_hash", ForeignKey("value.value_hash"), index=True),
    _col("arg_position", Integer, nullable=True),
    _col("arg_key", String(100), nullable=True),
)

evaluation = Table(
    "evaluation",
    metadata,
    _hash_col("eval_hash", primary_key=True),
    _hash_col("task_hash", ForeignKey("task.hash"), index=True),
    _hash_col("args_hash"),
    _hash_col("value_hash", ForeignKey("value.value_hash"), index=True),
)

call_edge = Table(
    "call_edge",
    metadata,
    _hash_col("parent_id", ForeignKey("call_node.call_hash"), primary_key=True, index=True),
    _hash_col("child_id", ForeignKey("call_node.call_hash"), primary_key=True, index=True),
    _col("call_order", Integer, primary_key=True),
)

call_node = Table(
    "call_node",
    metadata,
    _hash_col("call_hash", primary_key=True),
    _col("task_name", String(1024)),
    _hash_col("task_hash", ForeignKey("task.hash"), index=True),
    _hash_col("args_hash"),
    _hash_col("value_hash", ForeignKey("value.value_hash"), index=True),
    _col("timestamp", DateTimeUTC, default=utcnow),
    _vpo_index("ix_call_node_call_hash_vpo", "call_hash", unique=True),
    # Not in redun's schema (which it does not change): makes cache lookups by
    # (task, arguments) logarithmic instead of a scan of every call of the task.
    Index(LOOKUP_INDEX, "task_hash", "args_hash"),
)

call_subtree_task = Table(
    "call_subtree_task",
    metadata,
    _hash_col("call_hash", ForeignKey("call_node.call_hash"), primary_key=True, index=True),
    _hash_col("task_hash", ForeignKey("task.hash"), primary_key=True, index=True),
)

handle_edge = Table(
    "handle_edge",
    metadata,
    _hash_col("parent_id", ForeignKey("handle.hash"), primary_key=True, index=True),
    _hash_col("child_id", ForeignKey("handle.hash"), primary_key=True, index=True),
)

handle = Table(
    "handle",
    metadata,
    _hash_col("hash", primary_key=True),
    _col("fullname", String(1024), index=True),
    _hash_col("value_hash", ForeignKey("value.value_hash"), index=True),
    _col("key", String(1024)),
    _col("is_valid", Boolean, default=True),
)

execution = Table(
    "execution",
    metadata,
    _col("id", String, primary_key=True),
    _col("args", String),
    _col(
        "job_id",
        String,
        ForeignKey(
            "job.id",
            name="execution_job_id_fkey",
            deferrable=True,
            initially="deferred",
            use_alter=True,
        ),
        index=True,
    ),
    _col("updated_time", DateTimeUTC, nullable=True),
    _vpo_index("ix_execution_id_vpo", "id", unique=True),
)

job = Table(
    "job",
    metadata,
    _col("id", String, primary_key=True),
    _col("start_time", DateTimeUTC, index=True),
    _col("end_time", DateTimeUTC, nullable=True, index=True),
    _hash_col("task_hash", ForeignKey("task.hash"), index=True),
    _col("cached", Boolean, default=False),
    _hash_col("call_hash", ForeignKey("call_node.call_hash"), nullable=True, index=True),
    _col("parent_id", String, ForeignKey("job.id"), nullable=True, index=True),
    _col(
        "execution_id",
        String,
        ForeignKey(
            "execution.id", name="ct_job_execution_id", deferrable=True, initially="deferred"
        ),
        index=True,
    ),
    _vpo_index("ix_job_id_vpo", "id", unique=True),
)

task = Table(
    "task",
    metadata,
    _hash_col("hash", primary_key=True),
    _col("name", String),
    _col("namespace", String),
    _col("source", String),
    _vpo_index("ix_task_hash_vpo", "hash", unique=True),
    _vpo_index("ix_task_name_vpo", "name", unique=False),
    _vpo_index("ix_task_namespace_vpo", "namespace", unique=False),
)

tag_edit = Table(
    "tag_edit",
    metadata,
    _col("parent_id", String, ForeignKey("tag.tag_hash"), primary_key=True),
    _col("child_id", String, ForeignKey("tag.tag_hash"), primary_key=True),
)

tag = Table(
    "tag",
    metadata,
    _hash_col("tag_hash", primary_key=True),
    _col("entity_type", Enum(TagEntity, name="tagentitytype")),
    _col("entity_id", String, index=True),
    _col("key", String, index=True),
    _col("value", JSON, index=True),
    _col("is_current", Boolean, default=True),
    Index(
        "ix_tag_tag_hash_current",
        "tag_hash",
        unique=True,
        sqlite_where=text("is_current"),
    ),
)
