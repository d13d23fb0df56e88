"""Statements compiled once into the driver's own SQL, run with ready parameters.

For the scheduler's small repeated statements (cache lookups, bulk inserts of
a tick's records) SQLAlchemy's per-execution work, building a parameter dict
per row and a result object per query, costs more than the database itself.
A `DriverStatement` is compiled by SQLAlchemy once per dialect, so the SQL
text, placeholders and casts stay SQLAlchemy's, and each column type's own
bind processor still converts the values (UTC timestamps, JSON tag values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

# A parameter slot: (key in the caller's mapping or None, constant, converter).
_Slot = tuple[str | None, Any, Callable[[Any], Any] | None]


class DriverStatement:
    """One statement compiled for one dialect, fed from plain mappings."""

    def __init__(self, stmt: Any, dialect: Any, column_keys: Sequence[str] | None = None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
        if compiled.escaped_bind_names:
            raise ValueError(f"bind names need escaping in: {compiled.string}")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults are computed per execution by SQLAlchemy.
            raise ValueError(f"rows must give every column with a default: {compiled.string}")
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        names = compiled.positiontup if self.positional else list(compiled.binds)
        self._names: list[str] = list(names or ())
        self._slots: list[_Slot] = [self._slot(compiled.binds[name], dialect) for name in names]
        self._plain = all(key is not None and convert is None for key, _, convert in self._slots)

    @staticmethod
    def _slot(bind: Any, dialect: Any) -> _Slot:
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:
            return bind.key, None, convert
        constant = bind.effective_value
        return None, convert(constant) if convert else constant, None

    def params(self, values: Mapping[str, Any]) -> Sequence | dict:
        """The driver's parameters (a tuple, or a dict for named paramstyles)."""
        if self._plain:
            ordered: list = [values[key] for key, _, _ in self._slots]  # type: ignore[index]
        else:
            ordered = [
                constant
                if key is None
                else (convert(values[key]) if convert is not None else values[key])
                for key, constant, convert in self._slots
            ]
        if self.positional:
            return tuple(ordered)
        return dict(zip(self._names, ordered))

    def executemany(self, connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        batch = [self.params(row) for row in rows]
        if batch:
            connection.exec_driver_sql(self.sql, batch)

    def fetchall(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple]:
        """Rows of a lookup, straight from the DB-API cursor.

        Skips SQLAlchemy's result machinery but not its events (statement
        counters and echo still see the statement) nor its error types, so
        callers retry and reconnect exactly as for any other statement.
        """
        params = self.params(values)

        def run(cursor: Any) -> list[tuple]:
            cursor.execute(self.sql, params)
            return cursor.fetchall()

        return on_cursor(connection, self.sql, params, run)


def on_cursor(
    connection: Connection, sql: str, params: Any = None, run: Callable[[Any], Any] | None = None
) -> Any:
    """``run(cursor)`` (default: execute `sql`) on a DB-API cursor of `connection`.

    SQLAlchemy's events see `sql` and its errors arrive as SQLAlchemy's types
    (DBAPIError, IntegrityError, a dropped connection invalidated).
    """
    fairy = connection.connection
    cursor = fairy.cursor()
    for listener in connection.dispatch.before_cursor_execute:
        listener(connection, cursor, sql, params, None, False)
    dialect = connection.dialect
    try:
        if run is not None:
            return run(cursor)
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        return None
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, fairy.dbapi_connection, cursor)
        raise DBAPIError.instance(
            sql,
            params,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from error
    finally:
        cursor.close()


class CopyInsert:
    """A PostgreSQL INSERT of many rows sent by COPY instead of one statement per row.

    psycopg's executemany still runs one INSERT per row on the server (and
    Python per row on the client). Here the rows stream by COPY into a
    temporary table shaped like the target, then one INSERT ... SELECT with the
    caller's ON CONFLICT clause moves them, so every write stays idempotent.
    The temporary table lives in the session and empties at each commit. A
    pooler may hand each transaction another server session, so whether the
    table exists is asked in every transaction, never remembered across them:
    one query lists this session's tables (`_present_tables`) and only the
    missing ones are created (8 CREATE ... IF NOT EXISTS per write cost 1.9 ms
    on the server even when the tables exist).
    """

    def __init__(
        self, table: Table, columns: Sequence[str], dialect: Any, conflict: Callable[[Any], Any]
    ) -> None:
        from sqlalchemy import Column, MetaData, select
        from sqlalchemy.dialects import postgresql

        temp = Table(
            f"redun_copy_{table.name}",
            MetaData(),
            *(Column(column.name, column.type) for column in table.columns),
        )
        quote = dialect.identifier_preparer
        names = ", ".join(quote.quote(name) for name in columns)
        self.temp_name = temp.name
        self.create_sql = (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote.format_table(temp)} "
            f"(LIKE {quote.format_table(table)}) ON COMMIT DELETE ROWS"
        )
        self.copy_sql = f"COPY {quote.format_table(temp)} ({names}) FROM STDIN"
        moved = conflict(
            postgresql.insert(table).from_select(
                list(columns), select(*(temp.c[name] for name in columns))
            )
        )
        self.insert_sql: str = moved.compile(dialect=dialect).string
        self.clear_sql = f"DELETE FROM {quote.format_table(temp)}"
        self._columns = list(columns)
        self._convert = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        ]

    @staticmethod
    def fits(table: Table) -> bool:
        """Tables whose values COPY's text format takes as they come (no JSON, no enums)."""
        from sqlalchemy import Enum

        from redun.backends.db.types import JSON

        return not any(isinstance(column.type, (JSON, Enum)) for column in table.columns)

    def write(
        self, connection: Connection, rows: Sequence[Mapping[str, Any]], clear: bool = False
    ) -> None:
        """Insert `rows`; `clear` empties the temporary table for another batch in this
        transaction (at commit it empties by itself)."""
        columns, converters = self._columns, self._convert
        present = _present_tables(connection)
        if self.temp_name not in present:
            on_cursor(connection, self.create_sql)
            present.add(self.temp_name)

        def stream(cursor: Any) -> None:
            with cursor.copy(self.copy_sql) as copy:
                for row in rows:
                    copy.write_row(
                        [
                            row[name] if convert is None else convert(row[name])
                            for name, convert in zip(columns, converters)
                        ]
                    )

        on_cursor(connection, self.copy_sql, run=stream)
        on_cursor(connection, self.insert_sql)
        if clear:
            on_cursor(connection, self.clear_sql)


# This session's COPY tables; the prefix is CopyInsert's (LIKE's "_" escaped).
_PRESENT_SQL = (
    "SELECT relname FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.pg_my_temp_schema() "
    "AND relname LIKE 'redun\\_copy\\_%'"
)
_PRESENT_KEY = "redun_copy_tables"


def _present_tables(connection: Connection) -> set[str]:
    """Names of the COPY tables the server session of this transaction has.

    Asked once per transaction (or savepoint: one rolled back takes its CREATEs
    with it) and kept in the connection's info with the transaction it is for.
    """
    transaction = connection.get_nested_transaction() or connection.get_transaction()
    known = connection.info.get(_PRESENT_KEY)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]

    def run(cursor: Any) -> set[str]:
        cursor.execute(_PRESENT_SQL)
        return {name for (name,) in cursor.fetchall()}

    present = on_cursor(connection, _PRESENT_SQL, run=run)
    if transaction is not None:
        connection.info[_PRESENT_KEY] = (transaction, present)
    return present


class DriverStatements:
    """DriverStatements built on first use, per dialect and key."""

    def __init__(self) -> None:
        self._compiled: dict[tuple, DriverStatement] = {}

    def get(
        self,
        dialect: Any,
        key: Any,
        build: Callable[[], Any],
        column_keys: Sequence[str] | None = None,
    ) -> DriverStatement:
        cache_key = (dialect.name, key, tuple(column_keys or ()))
        found = self._compiled.get(cache_key)
        if found is None:
            found = self._compiled[cache_key] = DriverStatement(build(), dialect, column_keys)
        return found
