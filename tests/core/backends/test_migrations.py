"""Schema versions: creation, the alembic chain up and down, and version checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from redun.backends.db import (
    REDUN_DB_VERSIONS,
    RedunBackendDb,
    RedunVersionError,
    parse_db_version,
)
from redun.backends.db.engine import make_engine
from redun.backends.db.migrations import create_schema, get_db_version, migrate
from sqlalchemy import inspect, text

from tests.core.backends.helpers import make_task, record_call


def schema_of(engine) -> dict:
    """Tables with their columns (name, nullable), indexes and foreign keys."""
    inspector = inspect(engine)
    schema = {}
    for table in inspector.get_table_names():
        schema[table] = {
            "columns": sorted((c["name"], c["nullable"]) for c in inspector.get_columns(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
        }
    return schema


def test_fresh_database_is_created_at_latest(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri)
    backend.load(migrate=True)
    assert backend.get_db_version() == REDUN_DB_VERSIONS[-1]
    assert str(backend.get_db_version()) == "3.5"
    backend.close()


def test_migration_chain_builds_the_same_schema_as_the_models(db_uri: str) -> None:
    chain = make_engine(db_uri)
    assert migrate(chain, parse_db_version("1.0"))
    assert migrate(chain)
    with chain.connect() as connection:
        assert get_db_version(connection) == REDUN_DB_VERSIONS[-1]
    reference = make_engine("sqlite://")
    with reference.begin() as connection:
        create_schema(connection)
    expected = schema_of(reference)
    actual = schema_of(chain)
    if chain.dialect.name == "sqlite":
        assert actual == expected
    else:
        # PostgreSQL reports the same tables, columns and indexes.
        for table, parts in expected.items():
            assert actual[table]["columns"] == parts["columns"], table
            assert actual[table]["indexes"] == parts["indexes"], table
    chain.dispose()
    reference.dispose()


def test_fresh_postgresql_schema_has_prefix_and_partial_indexes(postgres_server) -> None:
    # Their PostgreSQL-only options are given when the indexes are created there.
    backend = RedunBackendDb(postgres_server.create_database())
    backend.load(migrate=True)
    with backend.engine.connect() as connection:
        definitions = dict(
            connection.execute(
                text(
                    "select indexname, indexdef from pg_indexes "
                    "where indexname like '%_vpo' or indexname = 'ix_tag_tag_hash_current'"
                )
            ).all()
        )
    backend.close()
    assert len(definitions) == 8
    assert definitions.pop("ix_tag_tag_hash_current").endswith("(tag_hash) WHERE is_current")
    for name, definition in definitions.items():
        assert "varchar_pattern_ops)" in definition, name


def test_downgrade_and_upgrade_keep_the_call_graph(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri)
    backend.load(migrate=True)
    task = make_task("kept")
    call_hash, _ = record_call(backend, task, [1], 2)
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False)
    backend.record_job_end("root", call_hash)
    backend.flush()

    assert backend.migrate(parse_db_version("3.0"))
    assert str(backend.get_db_version()) == "3.0"
    with backend.engine.connect() as connection:
        assert not inspect(connection).has_table("tag")
    with pytest.raises(RedunVersionError, match="redun db upgrade"):
        backend.load(migrate=False)
    backend.load(migrate=True)
    assert str(backend.get_db_version()) == "3.5"
    assert backend.get_value(backend.type_registry.get_hash(2)) == (2, True)
    assert backend.session.execute(text("select count(*) from job")).scalar() == 1
    assert not backend.migrate()
    backend.close()


def test_backfill_of_job_execution_ids(db_uri: str) -> None:
    """Version 3.0 gives every job its root's execution (and orphans a stub)."""
    engine = make_engine(db_uri)
    migrate(engine, parse_db_version("2.3"))
    with engine.begin() as connection:
        connection.execute(
            text("insert into task values ('t', 'n', '', 's')"),
        )
        for job_id, parent in [("a", None), ("b", "a"), ("c", "b"), ("x", None)]:
            connection.execute(
                text(
                    "insert into job (id, start_time, task_hash, cached, parent_id) "
                    "values (:id, '2024-01-01 00:00:00', 't', false, :parent)"
                ),
                {"id": job_id, "parent": parent},
            )
        connection.execute(text("insert into execution values ('e1', '[]', 'a')"))
    migrate(engine)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("select id, execution_id from job")).all())
        stub = connection.execute(text("select id, args from execution where job_id = 'x'")).one()
    assert rows["a"] == rows["b"] == rows["c"] == "e1"
    assert rows["x"] == stub.id and stub.args == '"Stub Execution"'
    engine.dispose()


def test_non_migrated_database_says_how_to_upgrade(postgres_server) -> None:
    backend = RedunBackendDb(postgres_server.create_database())
    assert backend.automigrate is False
    with pytest.raises(RedunVersionError) as error:
        backend.load()
    message = str(error.value)
    assert "no redun schema" in message and "redun db upgrade" in message
    assert "automigrate" in message and "\n" not in message
    backend.load(migrate=True)
    assert str(backend.get_db_version()) == "3.5"
    backend.close()


def test_database_newer_than_the_program_is_refused(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri)
    backend.load(migrate=True)
    with backend.engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = 'ffffffffffff'"))
    # An unknown minor version of the same major is compatible (as in redun).
    assert str(backend.get_db_version()) == "3.?"
    backend.load()
    with backend.engine.begin() as connection:
        connection.execute(
            text("insert into redun_version values ('v4', 4, :now)"),
            {"now": datetime.now(timezone.utc) + timedelta(days=1)},
        )
    assert str(backend.get_db_version()) == "4.?"
    with pytest.raises(RedunVersionError, match="newer than this program"):
        backend.load(migrate=False)
    with pytest.raises(RedunVersionError, match="too new"):
        backend.load(migrate=True)
    backend.close()


def test_parse_db_version_errors_are_clear() -> None:
    assert parse_db_version("latest") == REDUN_DB_VERSIONS[-1]
    assert str(parse_db_version("3")) == "3.0"
    with pytest.raises(RedunVersionError, match="Unknown db version '9.9'"):
        parse_db_version("9.9")
    with pytest.raises(RedunVersionError, match="Invalid db version 'x'"):
        parse_db_version("x")


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from redun.backends.db import RedunDatabaseError

    with pytest.raises(RedunDatabaseError, match="must not contain a password"):
        RedunBackendDb("postgresql://u:secret@host/db")
    monkeypatch.setenv("MY_USER", "alice")
    monkeypatch.setenv("MY_PASS", "p@ss word")
    backend = RedunBackendDb(
        config={
            "db_uri": "postgresql://host:5432/db",
            "db_username_env": "MY_USER",
            "db_password_env": "MY_PASS",
        }
    )
    assert backend.db_uri == "postgresql://alice:p%40ss+word@host:5432/db"


def test_unreachable_databases_are_one_line_errors(tmp_path) -> None:
    from redun.backends.db import RedunDatabaseError

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for uri in (
        f"sqlite:///{blocker}/sub/redun.db",
        "postgresql://127.0.0.1:1/nothing",
    ):
        backend = RedunBackendDb(uri, config={"db_retries": "0"})
        with pytest.raises(RedunDatabaseError) as error:
            backend.load()
        message = str(error.value)
        assert message.startswith("Cannot open the database") and "\n" not in message
        assert "db_uri" in message


@pytest.mark.parametrize("required", [False, True])
def test_missing_postgres_server_skips_or_fails_when_required(
    monkeypatch: pytest.MonkeyPatch, required: bool
) -> None:
    """CI requires the PostgreSQL tests (REDUN_REQUIRE_POSTGRES=1): no server is a failure."""
    from redun.testing import postgres

    monkeypatch.setattr(postgres, "_shared", None)
    monkeypatch.setattr(postgres, "find_server_bin", lambda: None)
    monkeypatch.setenv(postgres.REQUIRE_ENV, "1" if required else "0")
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match="POSTGRESQL TESTS NOT RUN: server binaries"):
        postgres.shared_postgres_server()
