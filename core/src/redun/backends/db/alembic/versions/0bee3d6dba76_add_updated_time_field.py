"""Execution heartbeat column updated_time (redun db version 3.5).

Revision ID: 0bee3d6dba76
Revises: 3b0a6e67cc58
"""

import sqlalchemy as sa
from alembic import op

revision = "0bee3d6dba76"
down_revision = "3b0a6e67cc58"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("execution") as batch_op:
        batch_op.add_column(sa.Column("updated_time", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("execution") as batch_op:
        batch_op.drop_column("updated_time")
