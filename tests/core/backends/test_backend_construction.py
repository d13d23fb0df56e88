"""A backend is usable as soon as it is built, and its session may be the caller's own."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from redun import Scheduler, task
from redun.backends.base import TagEntity
from redun.backends.db import (
    LATEST_DB_VERSION,
    MAX_DB_VERSION,
    MIN_DB_VERSION,
    REDUN_DB_VERSIONS,
    CallNode,
    DBVersionInfo,
    Execution,
    Job,
    RedunBackendDb,
    RedunSession,
    RedunVersionError,
    Value,
    parse_db_version,
)
from redun.backends.db.engine import SQLITE_CACHE_KIB, WAL_CHECKPOINT_PAGES
from redun.backends.db.query import CallGraphQuery
from redun.config import Config
from sqlalchemy import text
from sqlalchemy.orm import Session

redun_namespace = "construction_test"


@task
def double(x: int) -> int:
    return 2 * x


@task
def pipeline(x: int) -> int:
    return double(double(x))


def prepared(db_uri: str) -> str:
    """A repository with the current schema, as `redun db upgrade` leaves it."""
    backend = RedunBackendDb(db_uri=db_uri)
    backend.load(migrate=True)
    backend.close()
    return db_uri


def test_a_new_scheduler_is_queryable_before_any_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    scheduler = Scheduler()
    assert scheduler.backend.session.query(Execution).all() == []
    assert scheduler.run(pipeline(3)) == 12
    assert scheduler.backend.session.query(Job).count() == 3


def test_a_new_scheduler_on_a_repository_reads_it_at_once(db_uri: str) -> None:
    Scheduler(config=Config({"backend": {"db_uri": prepared(db_uri)}})).run(pipeline(1))
    scheduler = Scheduler(config=Config({"backend": {"db_uri": db_uri}}))
    [execution] = scheduler.backend.session.query(Execution).all()
    assert execution.job.task.fullname == "construction_test.pipeline"
    query = CallGraphQuery(scheduler.backend.session).filter_types(["CallNode"])
    assert dict(query.count()) == {"CallNode": 3}


def test_a_new_backend_records_and_reads_without_load(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri=prepared(db_uri))
    value_hash = backend.record_value({"answer": 42})
    assert backend.get_value(value_hash) == ({"answer": 42}, True)
    backend.record_tags(TagEntity.Value, value_hash, [("project", "demo")])
    row = backend.session.get(Value, value_hash)
    assert row.value_parsed == {"answer": 42}
    assert [(tag.key, tag.value) for tag in row.tags] == [("project", "demo")]
    backend.close()
    # Written for real: another backend sees it.
    assert RedunBackendDb(db_uri=db_uri).get_value(value_hash) == ({"answer": 42}, True)


def test_a_new_sqlite_backend_creates_its_schema_on_first_use(tmp_path: Path) -> None:
    backend = RedunBackendDb(db_uri=f"sqlite:///{tmp_path}/fresh.db")
    assert backend.session.query(Execution).count() == 0
    assert backend.get_db_version() == LATEST_DB_VERSION


def test_a_server_database_without_schema_says_how_to_create_it(postgres_server) -> None:
    backend = RedunBackendDb(db_uri=postgres_server.create_database())
    with pytest.raises(RedunVersionError, match="redun db upgrade"):
        backend.session  # noqa: B018
    # Reading the version needs no schema.
    assert backend.get_db_version().major == -1


@pytest.mark.parametrize("session_class", ["RedunSession", "Session"])
def test_the_session_may_be_bound_to_an_outer_transaction(db_uri: str, session_class: str):
    """redun users' test fixtures: every test runs in a transaction rolled back after it."""
    backend = RedunBackendDb(db_uri=prepared(db_uri))
    backend.load()
    connection = backend.engine.connect()
    transaction = connection.begin()
    if session_class == "RedunSession":
        backend.session = RedunSession(backend, bind=connection)
    else:
        backend.session = Session(bind=connection)
    scheduler = Scheduler(backend=backend)
    assert scheduler.run(pipeline(2)) == 8
    # Cached within the outer transaction.
    assert scheduler.run(pipeline(2)) == 8
    session = backend.session
    assert session.query(Execution).count() == 2
    # Three jobs per run; the second run's are cached.
    assert session.query(Job).count() == 6
    assert session.query(Job).filter_by(cached=True).count() == 3
    [root] = session.query(CallNode).filter_by(task_name="construction_test.pipeline").all()
    assert root.value.value_parsed == 8
    session.close()
    transaction.rollback()
    connection.close()
    backend.close()
    # Nothing outlives the outer transaction.
    assert RedunBackendDb(db_uri=db_uri).session.query(Execution).count() == 0


def test_a_session_of_its_own_commits_what_the_backend_writes(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri=prepared(db_uri))
    backend.load()
    backend.session = RedunSession(backend, bind=backend.engine)
    assert Scheduler(backend=backend).run(pipeline(5)) == 20
    backend.session.close()
    backend.close()
    other = RedunBackendDb(db_uri=db_uri)
    assert other.session.query(Job).count() == 3
    other.close()


def test_db_versions_order_by_version_not_migration_id() -> None:
    shuffled = list(REDUN_DB_VERSIONS)
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled) == REDUN_DB_VERSIONS
    assert max(REDUN_DB_VERSIONS) == LATEST_DB_VERSION
    # 2.3's migration id (d4af...) sorts after 3.0's (cd2d...): the version decides.
    assert parse_db_version("2.3") < parse_db_version("3.0")
    assert parse_db_version("3.5") > parse_db_version("3.4") >= parse_db_version("3.4")
    assert MIN_DB_VERSION <= LATEST_DB_VERSION <= MAX_DB_VERSION
    newer = DBVersionInfo("ffffffffffff", 3, 99, "DB version newer than client.")
    assert LATEST_DB_VERSION < newer <= MAX_DB_VERSION
    # The set an upgrade from 2.3 to the latest version applies, picked by comparison.
    current = parse_db_version("2.3")
    steps = [version for version in REDUN_DB_VERSIONS if current < version <= LATEST_DB_VERSION]
    assert [str(version) for version in steps] == ["3.0", "3.1", "3.2", "3.3", "3.4", "3.5"]


def test_an_old_database_compares_below_the_required_version(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri=db_uri)
    backend.connect()
    backend.migrate(parse_db_version("3.1"))
    version = backend.get_db_version()
    assert str(version) == "3.1"
    assert version < MIN_DB_VERSION
    assert not backend.is_db_compatible()
    backend.migrate(upgrade_only=True)
    assert backend.get_db_version() >= MIN_DB_VERSION
    backend.close()


def test_a_sqlite_writer_connection_gets_its_settings(tmp_path: Path) -> None:
    """WAL, NORMAL sync, the checkpoint interval and the larger page cache (issue 19)."""
    backend = RedunBackendDb(db_uri=f"sqlite:///{tmp_path}/settings.db")
    backend.load()
    with backend.engine.connect() as connection:
        pragmas = {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "cache_size")
        }
    backend.close()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "wal_autocheckpoint": WAL_CHECKPOINT_PAGES,
        "cache_size": -SQLITE_CACHE_KIB,
    }
