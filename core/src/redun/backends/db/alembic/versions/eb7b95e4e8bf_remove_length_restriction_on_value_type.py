"""Unbounded value.type (redun db version 3.2); SQLite never enforced the length.

Revision ID: eb7b95e4e8bf
Revises: cc4f663817b6
"""

import sqlalchemy as sa
from alembic import op

revision = "eb7b95e4e8bf"
down_revision = "cc4f663817b6"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("value", "type", existing_type=sa.String(length=100), type_=sa.String())


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("value", "type", existing_type=sa.String(), type_=sa.String(length=100))
