"""Indexes on job times and value type (redun db version 3.3).

Revision ID: f68b3aaee9cc
Revises: eb7b95e4e8bf
"""

from alembic import op

revision = "f68b3aaee9cc"
down_revision = "eb7b95e4e8bf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_job_end_time", "job", ["end_time"])
    op.create_index("ix_job_start_time", "job", ["start_time"])
    op.create_index("ix_value_type", "value", ["type"])


def downgrade():
    op.drop_index("ix_value_type", table_name="value")
    op.drop_index("ix_job_start_time", table_name="job")
    op.drop_index("ix_job_end_time", table_name="job")
