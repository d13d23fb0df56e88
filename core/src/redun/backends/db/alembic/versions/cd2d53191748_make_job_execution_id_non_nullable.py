"""Backfill job.execution_id and make it required (redun db version 3.0).

Revision ID: cd2d53191748
Revises: d4af139b6f53

Root jobs without an execution get a stub execution; every other job takes
the execution of its parent, one generation at a time.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "cd2d53191748"
down_revision = "d4af139b6f53"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    orphan_root_jobs = bind.execute(
        sa.text(
            "select job.id from job left join execution on execution.job_id = job.id "
            "where job.parent_id is null and execution.id is null"
        )
    ).fetchall()
    for (job_id,) in orphan_root_jobs:
        bind.execute(
            sa.text("insert into execution (id, args, job_id) values (:id, :args, :job_id)"),
            {"id": str(uuid.uuid4()), "args": '"Stub Execution"', "job_id": job_id},
        )
    bind.execute(
        sa.text(
            "update job set execution_id = "
            "(select e.id from execution e where e.job_id = job.id) "
            "where job.parent_id is null"
        )
    )
    while True:
        result = bind.execute(
            sa.text(
                "update job set execution_id = "
                "(select p.execution_id from job p where p.id = job.parent_id) "
                "where job.execution_id is null and job.parent_id is not null and exists "
                "(select 1 from job p where p.id = job.parent_id "
                "and p.execution_id is not null)"
            )
        )
        if result.rowcount == 0:
            break
    if bind.dialect.name == "postgresql":
        # Check the deferred foreign keys now: ALTER TABLE refuses pending checks.
        op.execute("set constraints all immediate")
    with op.batch_alter_table("job") as batch_op:
        batch_op.alter_column("execution_id", existing_type=sa.String(), nullable=False)


def downgrade():
    with op.batch_alter_table("job") as batch_op:
        batch_op.alter_column("execution_id", existing_type=sa.String(), nullable=True)
