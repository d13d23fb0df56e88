"""Timezone-aware UTC timestamps (redun db version 3.4).

Revision ID: 3b0a6e67cc58
Revises: f68b3aaee9cc

PostgreSQL columns become `timestamp with time zone`, reading old values in
REDUN_LOCALTIMEZONE (default UTC); a trigger converts job times inserted by
old clients (which do not set `redun.version`). SQLite job times, written in
local time by old clients, are converted to UTC.
"""

import os

from alembic import op

revision = "3b0a6e67cc58"
down_revision = "f68b3aaee9cc"
branch_labels = None
depends_on = None

COLUMNS = [
    ("job", "start_time"),
    ("job", "end_time"),
    ("call_node", '"timestamp"'),
    ("redun_version", '"timestamp"'),
]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        local_timezone = os.environ.get("REDUN_LOCALTIMEZONE", "UTC").replace("'", "")
        op.execute(f"set local timezone = '{local_timezone}'")
        for table, column in COLUMNS:
            op.execute(f"alter table {table} alter column {column} type timestamp with time zone")
        op.execute(
            f"""
            create or replace function check_job_utc() returns trigger as $$
            begin
                if current_setting('redun.version', true) is null then
                    set local timezone = '{local_timezone}';
                    new.start_time := new.start_time at time zone 'UTC';
                    new.end_time := new.end_time at time zone 'UTC';
                end if;
                return new;
            end;
            $$ language plpgsql
            """
        )
        op.execute("drop trigger if exists check_job_utc on job")
        op.execute(
            "create trigger check_job_utc before insert on job "
            "for each row execute function check_job_utc()"
        )
    elif dialect == "sqlite":
        op.execute(
            "update job set start_time = datetime(start_time, 'utc'), "
            "end_time = datetime(end_time, 'utc')"
        )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table, column in COLUMNS:
            op.execute(
                f"alter table {table} alter column {column} type timestamp without time zone"
            )
        op.execute("drop trigger if exists check_job_utc on job")
        op.execute("drop function if exists check_job_utc")
    elif dialect == "sqlite":
        op.execute(
            "update job set start_time = datetime(start_time, 'localtime'), "
            "end_time = datetime(end_time, 'localtime')"
        )
