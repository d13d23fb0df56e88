"""Indexes for id prefix search (redun db version 2.2).

Revision ID: 71ec303c90e4
Revises: 30ffbaee18cd
"""

from alembic import op

revision = "71ec303c90e4"
down_revision = "30ffbaee18cd"
branch_labels = None
depends_on = None

VPO_INDEXES = [
    ("ix_call_node_call_hash_vpo", "call_node", "call_hash", True),
    ("ix_execution_id_vpo", "execution", "id", True),
    ("ix_job_id_vpo", "job", "id", True),
    ("ix_task_hash_vpo", "task", "hash", True),
    ("ix_task_name_vpo", "task", "name", False),
    ("ix_task_namespace_vpo", "task", "namespace", False),
    ("ix_value_value_hash_vpo", "value", "value_hash", True),
]


def upgrade():
    for name, table, column, unique in VPO_INDEXES:
        op.create_index(
            name,
            table,
            [column],
            unique=unique,
            postgresql_ops={column: "varchar_pattern_ops"},
        )
    op.create_index("ix_file_path", "file", ["path"])


def downgrade():
    op.drop_index("ix_file_path", table_name="file")
    for name, table, _, _ in reversed(VPO_INDEXES):
        op.drop_index(name, table_name=table)
