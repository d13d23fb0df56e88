"""Add tag and tag_edit (redun db version 3.1).

Revision ID: cc4f663817b6
Revises: cd2d53191748
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "cc4f663817b6"
down_revision = "cd2d53191748"
branch_labels = None
depends_on = None

ENTITY_TYPES = ("Execution", "Job", "CallNode", "Task", "Value", "Null")


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "tag",
        sa.Column("tag_hash", sa.String(length=40), primary_key=True),
        sa.Column("entity_type", sa.Enum(*ENTITY_TYPES, name="tagentitytype"), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", JSONB() if postgres else sa.String(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_tag_entity_id", "tag", ["entity_id"])
    op.create_index("ix_tag_key", "tag", ["key"])
    op.create_index("ix_tag_value", "tag", ["value"])
    op.create_index(
        "ix_tag_tag_hash_current",
        "tag",
        ["tag_hash"],
        unique=True,
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current"),
    )
    op.create_table(
        "tag_edit",
        sa.Column("parent_id", sa.String(), nullable=False),
        sa.Column("child_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["tag.tag_hash"]),
        sa.ForeignKeyConstraint(["parent_id"], ["tag.tag_hash"]),
        sa.PrimaryKeyConstraint("parent_id", "child_id"),
    )


def downgrade():
    op.drop_table("tag_edit")
    op.drop_table("tag")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop type if exists tagentitytype")
