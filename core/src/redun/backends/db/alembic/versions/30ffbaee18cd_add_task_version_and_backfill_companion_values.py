"""Give every task row its companion value row (redun db version 2.1).

Revision ID: 30ffbaee18cd
Revises: 647c510a77b1

Very old databases recorded tasks without the `value` row of the same hash.
The placeholder written here makes the task visible as a value (type
``redun.Task``); it holds the recorded fields, not a loadable Task, so using
it as a cached result is a miss rather than a wrong hit.
"""

import pickle

import sqlalchemy as sa
from alembic import op

revision = "30ffbaee18cd"
down_revision = "647c510a77b1"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    lonely = bind.execute(
        sa.text(
            "select t.hash, t.name, t.namespace, t.source from task t "
            "left join value v on v.value_hash = t.hash where v.value_hash is null"
        )
    ).fetchall()
    value = sa.table(
        "value",
        sa.column("value_hash", sa.String),
        sa.column("type", sa.String),
        sa.column("format", sa.String),
        sa.column("value", sa.LargeBinary),
    )
    rows = [
        {
            "value_hash": task_hash,
            "type": "redun.Task",
            "format": "application/python-pickle",
            "value": pickle.dumps(
                {"name": name, "namespace": namespace, "source": source}, protocol=3
            ),
        }
        for task_hash, name, namespace, source in lonely
    ]
    if rows:
        op.bulk_insert(value, rows)


def downgrade():
    # The placeholder values are harmless at older versions; keep them.
    pass
