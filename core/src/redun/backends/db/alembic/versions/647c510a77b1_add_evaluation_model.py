"""Add the evaluation table (redun db version 2.0).

Revision ID: 647c510a77b1
Revises: 806f5dcb11bf
"""

import sqlalchemy as sa
from alembic import op

revision = "647c510a77b1"
down_revision = "806f5dcb11bf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evaluation",
        sa.Column("eval_hash", sa.String(length=40), primary_key=True),
        sa.Column("task_hash", sa.String(length=40), nullable=False),
        sa.Column("args_hash", sa.String(length=40), nullable=False),
        sa.Column("value_hash", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["task_hash"], ["task.hash"]),
        sa.ForeignKeyConstraint(["value_hash"], ["value.value_hash"]),
    )
    op.create_index("ix_evaluation_task_hash", "evaluation", ["task_hash"])
    op.create_index("ix_evaluation_value_hash", "evaluation", ["value_hash"])


def downgrade():
    op.drop_table("evaluation")
