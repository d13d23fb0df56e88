"""Prototype schema (redun db version 1.0).

Revision ID: 806f5dcb11bf
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "806f5dcb11bf"
down_revision = None
branch_labels = None
depends_on = None

H = sa.String(length=40)


def _fk(column, target):
    return sa.ForeignKeyConstraint([column], [target])


def upgrade():
    op.create_table(
        "redun_version",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "task",
        sa.Column("hash", H, primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
    )
    op.create_table(
        "value",
        sa.Column("value_hash", H, primary_key=True),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=100), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "call_node",
        sa.Column("call_hash", H, primary_key=True),
        sa.Column("task_name", sa.String(length=1024), nullable=False),
        sa.Column("task_hash", H, nullable=False),
        sa.Column("args_hash", H, nullable=False),
        sa.Column("value_hash", H, nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        _fk("task_hash", "task.hash"),
        _fk("value_hash", "value.value_hash"),
    )
    op.create_index("ix_call_node_task_hash", "call_node", ["task_hash"])
    op.create_index("ix_call_node_value_hash", "call_node", ["value_hash"])
    op.create_table(
        "file",
        sa.Column("value_hash", H, primary_key=True),
        sa.Column("path", sa.String(length=1024), nullable=False),
        _fk("value_hash", "value.value_hash"),
    )
    op.create_table(
        "handle",
        sa.Column("hash", H, primary_key=True),
        sa.Column("fullname", sa.String(length=1024), nullable=False),
        sa.Column("value_hash", H, nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("is_valid", sa.Boolean(), nullable=False),
        _fk("value_hash", "value.value_hash"),
    )
    op.create_index("ix_handle_fullname", "handle", ["fullname"])
    op.create_index("ix_handle_value_hash", "handle", ["value_hash"])
    op.create_table(
        "subvalue",
        sa.Column("value_hash", H, nullable=False),
        sa.Column("parent_value_hash", H, nullable=False),
        _fk("parent_value_hash", "value.value_hash"),
        _fk("value_hash", "value.value_hash"),
        sa.PrimaryKeyConstraint("value_hash", "parent_value_hash"),
    )
    op.create_index("ix_subvalue_parent_value_hash", "subvalue", ["parent_value_hash"])
    op.create_index("ix_subvalue_value_hash", "subvalue", ["value_hash"])
    op.create_table(
        "argument",
        sa.Column("arg_hash", H, primary_key=True),
        sa.Column("call_hash", H, nullable=False),
        sa.Column("value_hash", H, nullable=False),
        sa.Column("arg_position", sa.Integer(), nullable=True),
        sa.Column("arg_key", sa.String(length=100), nullable=True),
        _fk("call_hash", "call_node.call_hash"),
        _fk("value_hash", "value.value_hash"),
    )
    op.create_index("ix_argument_call_hash", "argument", ["call_hash"])
    op.create_index("ix_argument_value_hash", "argument", ["value_hash"])
    op.create_table(
        "call_edge",
        sa.Column("parent_id", H, nullable=False),
        sa.Column("child_id", H, nullable=False),
        sa.Column("call_order", sa.Integer(), nullable=False),
        _fk("child_id", "call_node.call_hash"),
        _fk("parent_id", "call_node.call_hash"),
        sa.PrimaryKeyConstraint("parent_id", "child_id", "call_order"),
    )
    op.create_index("ix_call_edge_child_id", "call_edge", ["child_id"])
    op.create_index("ix_call_edge_parent_id", "call_edge", ["parent_id"])
    op.create_table(
        "call_subtree_task",
        sa.Column("call_hash", H, nullable=False),
        sa.Column("task_hash", H, nullable=False),
        _fk("call_hash", "call_node.call_hash"),
        _fk("task_hash", "task.hash"),
        sa.PrimaryKeyConstraint("call_hash", "task_hash"),
    )
    op.create_index("ix_call_subtree_task_call_hash", "call_subtree_task", ["call_hash"])
    op.create_index("ix_call_subtree_task_task_hash", "call_subtree_task", ["task_hash"])
    op.create_table(
        "handle_edge",
        sa.Column("parent_id", H, nullable=False),
        sa.Column("child_id", H, nullable=False),
        _fk("child_id", "handle.hash"),
        _fk("parent_id", "handle.hash"),
        sa.PrimaryKeyConstraint("parent_id", "child_id"),
    )
    op.create_index("ix_handle_edge_child_id", "handle_edge", ["child_id"])
    op.create_index("ix_handle_edge_parent_id", "handle_edge", ["parent_id"])
    op.create_table(
        "job",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("start_time", sa.DateTime(), nullable=False),
        sa.Column("end_time", sa.DateTime(), nullable=True),
        sa.Column("task_hash", H, nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("call_hash", H, nullable=True),
        sa.Column("parent_id", sa.String(), nullable=True),
        _fk("call_hash", "call_node.call_hash"),
        _fk("parent_id", "job.id"),
        _fk("task_hash", "task.hash"),
    )
    op.create_index("ix_job_call_hash", "job", ["call_hash"])
    op.create_index("ix_job_parent_id", "job", ["parent_id"])
    op.create_index("ix_job_task_hash", "job", ["task_hash"])
    op.create_table(
        "argument_result",
        sa.Column("arg_hash", H, nullable=False),
        sa.Column("result_call_hash", H, nullable=False),
        _fk("arg_hash", "argument.arg_hash"),
        _fk("result_call_hash", "call_node.call_hash"),
        sa.PrimaryKeyConstraint("arg_hash", "result_call_hash"),
    )
    op.create_index("ix_argument_result_arg_hash", "argument_result", ["arg_hash"])
    op.create_index("ix_argument_result_result_call_hash", "argument_result", ["result_call_hash"])
    op.create_table(
        "execution",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("args", sa.String(), nullable=False),
        sa.Column("job_id", sa.String(), nullable=False),
        _fk("job_id", "job.id"),
    )
    op.create_index("ix_execution_job_id", "execution", ["job_id"])


def downgrade():
    for table in (
        "execution",
        "argument_result",
        "job",
        "handle_edge",
        "call_subtree_task",
        "call_edge",
        "argument",
        "subvalue",
        "handle",
        "file",
        "call_node",
        "value",
        "task",
        "redun_version",
    ):
        op.drop_table(table)
