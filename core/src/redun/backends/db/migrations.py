"""Schema versions: read, create, upgrade and downgrade (alembic, shipped in the wheel)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, MetaData, insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

from redun.backends.db import schema
from redun.backends.db.engine import WRITE_OPTION
from redun.backends.db.errors import RedunVersionError
from redun.backends.db.schema import LOOKUP_INDEX
from redun.backends.db.types import utcnow
from redun.backends.db.versions import (
    LATEST_DB_VERSION,
    MAX_DB_VERSION,
    NULL_DB_VERSION,
    REDUN_DB_VERSIONS,
    UNKNOWN_MINOR,
    DBVersionInfo,
)

logger = logging.getLogger("redun")

# Advisory lock id held while migrating a PostgreSQL database ("redun" in ASCII).
LOCK_KEY = 0x726564756E


def get_db_version(connection: Connection) -> DBVersionInfo:
    """Major version from the newest `redun_version` row, minor from alembic's id."""
    if not inspect(connection).has_table(schema.redun_version.name):
        return NULL_DB_VERSION
    major = connection.execute(
        select(schema.redun_version.c.version)
        .order_by(schema.redun_version.c.timestamp.desc())
        .limit(1)
    ).scalar()
    if major is None:
        return NULL_DB_VERSION
    applied = set(connection.execute(select(schema.alembic_version.c.version_num)).scalars())
    for version in reversed(REDUN_DB_VERSIONS):
        if version.major == major and version.migration_id in applied:
            return version
    return DBVersionInfo("ffffffffffff", major, UNKNOWN_MINOR, "DB version newer than client.")


def _is_empty(connection: Connection) -> bool:
    return not inspect(connection).get_table_names()


def create_schema(connection: Connection) -> None:
    """Create the latest schema at once (a fresh database needs no migration chain)."""
    if connection.dialect.name == "sqlite":
        _create_all_inline(connection)
    else:
        schema.metadata.create_all(connection)
    connection.execute(
        insert(schema.alembic_version), {"version_num": LATEST_DB_VERSION.migration_id}
    )
    connection.execute(
        insert(schema.redun_version), {"version": LATEST_DB_VERSION.major, "timestamp": utcnow()}
    )


def _create_all_inline(connection: Connection) -> None:
    """SQLite cannot add a constraint to an existing table, so the job <-> execution
    foreign-key cycle is declared inline there (SQLite checks it at insert time)."""
    # A copy: once PostgreSQL DDL has ALTER-added the constraint, SQLAlchemy
    # leaves it out of CREATE TABLE for the original table object.
    metadata = MetaData()
    for table in schema.metadata.tables.values():
        table.to_metadata(metadata)
    execution = metadata.tables[schema.execution.name]
    others = [table for table in metadata.tables.values() if table is not execution]
    metadata.create_all(connection, tables=others)
    connection.execute(
        CreateTable(
            execution, include_foreign_key_constraints=list(execution.foreign_key_constraints)
        )
    )
    for index in execution.indexes:
        connection.execute(CreateIndex(index))


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for DDL; SQLite must not check foreign keys while tables are rebuilt."""
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            yield connection
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def migrate(
    engine: Engine, desired: DBVersionInfo | None = None, upgrade_only: bool = False
) -> bool:
    """Bring the schema to `desired` (default: latest); return whether anything changed."""
    desired = desired or LATEST_DB_VERSION
    with _migration_connection(engine) as connection:
        with connection.begin():
            if engine.dialect.name == "postgresql":
                # Processes starting together migrate one after the other.
                connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            version = get_db_version(connection)
            if version.key > MAX_DB_VERSION.key:
                raise RedunVersionError(
                    f"redun database is too new for this program: {version} > "
                    f"{MAX_DB_VERSION}. Upgrade redun-core."
                )
            if version == NULL_DB_VERSION and desired == LATEST_DB_VERSION:
                if _is_empty(connection):
                    logger.debug(f"Creating db schema version {desired}...")
                    create_schema(connection)
                    return True
            if desired.key > version.key:
                logger.info(f"Upgrading db from version {version} to {desired}...")
                _run_alembic(connection, "upgrade", desired.migration_id)
            elif desired.key < version.key and not upgrade_only:
                logger.info(f"Downgrading db from version {version} to {desired}...")
                _run_alembic(connection, "downgrade", desired.migration_id)
            else:
                # An explicit upgrade of a current database (one written by redun)
                # adds the lookup index; automigration leaves such databases as they are.
                if desired == LATEST_DB_VERSION and not upgrade_only:
                    return ensure_lookup_index(connection)
                return False
            connection.execute(
                insert(schema.redun_version), {"version": desired.major, "timestamp": utcnow()}
            )
            if desired == LATEST_DB_VERSION:
                ensure_lookup_index(connection)
    return True


def ensure_lookup_index(connection: Connection) -> bool:
    """Create the (task_hash, args_hash) index on call_node if missing; return if created."""
    existing = {index["name"] for index in inspect(connection).get_indexes("call_node")}
    if LOOKUP_INDEX in existing:
        return False
    [index] = [i for i in schema.call_node.indexes if i.name == LOOKUP_INDEX]
    index.create(connection)
    return True


def _run_alembic(connection: Connection, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "redun.backends.db:alembic")
    config.attributes["connection"] = connection
    getattr(command, command_name)(config, revision)
