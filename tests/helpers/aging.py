"""Let time pass for a recorded execution: every time it recorded moves back.

A reader tells a dead run from a live one by its signs of life (the heartbeat
and its jobs' start and end times, `redun.backends.db.status`); a test that
waits an hour moves them all back an hour instead.
"""

from __future__ import annotations

from datetime import timedelta

from redun.backends.db import schema
from sqlalchemy import select, update
from sqlalchemy.engine import Engine


def age_execution(engine: Engine, execution_id: str, by: timedelta = timedelta(hours=1)) -> None:
    """Move the heartbeat and every job time of one execution `by` into the past."""
    execution, job = schema.execution, schema.job
    with engine.begin() as connection:
        heartbeat = connection.scalar(
            select(execution.c.updated_time).where(execution.c.id == execution_id)
        )
        if heartbeat is not None:
            connection.execute(
                update(execution)
                .where(execution.c.id == execution_id)
                .values(updated_time=heartbeat - by)
            )
        rows = connection.execute(
            select(job.c.id, job.c.start_time, job.c.end_time).where(
                job.c.execution_id == execution_id
            )
        ).all()
        for job_id, start, end in rows:
            connection.execute(
                update(job)
                .where(job.c.id == job_id)
                .values(start_time=start - by, end_time=None if end is None else end - by)
            )
