"""A SQLite database written by redun 0.44.1 opens unchanged and serves its history and cache.

`data/redun-0.44.1.db` was produced by the real redun 0.44.1 (pip, separate
venv) running `data/redun-0.44.1-workflow.py.txt` twice (`redun run wf.py main
--n 3`), then `redun tag add - owner=alice`, `redun tag update - owner=bob`,
and a failing task (`legacy.boom`). `data/redun-0.44.1-export.jsonl` is
`redun export` of that database, run by redun 0.44.1.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from redun.backends.base import TagEntity
from redun.backends.db import Execution, Job, RedunBackendDb, RedunMigration, RedunVersion, Tag
from redun.backends.db.query import CallGraphQuery, infer_id
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from sqlalchemy import func, select

from tests.core.backends.helpers import cache_query

DATA = Path(__file__).parent / "data"


@pytest.fixture
def legacy(tmp_path: Path) -> RedunBackendDb:
    path = tmp_path / "redun.db"
    shutil.copy(DATA / "redun-0.44.1.db", path)
    backend = RedunBackendDb(f"sqlite:///{path}")
    backend.load()
    yield backend
    backend.close()


def test_recognised_as_current_without_migration(legacy: RedunBackendDb) -> None:
    assert str(legacy.get_db_version()) == "3.5"
    session = legacy.session
    assert session.execute(select(RedunMigration.version_num)).scalars().all() == ["0bee3d6dba76"]
    # No migration ran, so no version row was appended.
    assert session.execute(select(func.count()).select_from(RedunVersion)).scalar() == 1


def test_lists_its_executions_with_status_and_tags(legacy: RedunBackendDb) -> None:
    session = legacy.session
    executions = list(CallGraphQuery(session).filter_types(["Execution"]).order_by("time").all())
    assert len(executions) == 3
    assert [e.status for e in executions] == ["FAILED", "DONE", "DONE"]
    assert executions[0].job.task.fullname == "legacy.boom"
    assert "run" in executions[1].args and "main" in executions[1].args
    assert infer_id(session, "-").id == executions[0].id
    assert infer_id(session, "~2").id == executions[1].id
    assert infer_id(session, executions[2].id[:8]).id == executions[2].id

    tags = legacy.get_tags([executions[1].id])[executions[1].id]
    assert tags["owner"] == ["bob"]
    assert tags["project"] == ["legacy"]
    history = session.execute(
        select(Tag.value, Tag.is_current).where(Tag.key == "owner").order_by(Tag.is_current)
    ).all()
    assert history == [("alice", False), ("bob", True)]


def test_jobs_values_and_files_decode(legacy: RedunBackendDb) -> None:
    session = legacy.session
    query = CallGraphQuery(session)
    assert dict(query.count())["Job"] == 11
    assert {job.status for job in query.filter_types(["Job"]).all()} == {
        "DONE",
        "CACHED",
        "FAILED",
    }
    adds = list(query.filter_task_names(["legacy.add"]).filter_types(["Job"]).all())
    assert sorted(job.call_node.value_parsed for job in adds) == [10, 10, 11, 11, 12, 12]
    [file_value] = query.filter_file_paths(["out.txt"]).all()
    assert file_value.type == "redun.File"
    main = (
        session.execute(
            select(Job).join(Execution, Execution.job_id == Job.id).order_by(Job.start_time)
        )
        .scalars()
        .first()
    )
    assert main.call_node.value_parsed[:3] == [10, 11, 12]


def test_serves_its_cache(legacy: RedunBackendDb) -> None:
    session = legacy.session
    task_hashes = set(session.execute(select(Job.task_hash)).scalars())
    add_jobs = CallGraphQuery(session).filter_task_names(["legacy.add"]).filter_types(["Job"])
    node = next(add_jobs.all()).call_node
    hit = legacy.check_cache(
        cache_query(
            node.task_hash,
            node.args_hash,
            "0" * 40,
            "new-execution",
            task_hashes,
            CacheScope.BACKEND,
            CacheCheckValid.SHALLOW,
        )
    )
    assert hit.kind == CacheResult.ULTIMATE
    assert hit.result == node.value_parsed


def test_new_records_coexist_with_old_ones(legacy: RedunBackendDb) -> None:
    from tests.core.backends.helpers import make_task, record_call

    task = make_task("fresh")
    call_hash, _ = record_call(legacy, task, [1], 2)
    legacy.record_execution("new-exec", ["redun", "run"], "new-job")
    legacy.record_job_start("new-job", task, "new-exec", None, False)
    legacy.record_job_end("new-job", call_hash)
    legacy.flush()
    executions = list(CallGraphQuery(legacy.session).filter_types(["Execution"]).all())
    assert len(executions) == 4
    assert legacy.session.get(Execution, "new-exec").status == "DONE"


def test_lookup_index_is_added_only_by_an_explicit_upgrade(legacy: RedunBackendDb) -> None:
    from redun.backends.db.schema import LOOKUP_INDEX
    from sqlalchemy import inspect

    def indexes() -> set[str]:
        with legacy.engine.connect() as connection:
            return {index["name"] for index in inspect(connection).get_indexes("call_node")}

    assert LOOKUP_INDEX not in indexes()
    legacy.load(migrate=True)
    assert LOOKUP_INDEX not in indexes()
    assert legacy.migrate() is True
    assert LOOKUP_INDEX in indexes()
    assert legacy.migrate() is False
    assert str(legacy.get_db_version()) == "3.5"


def test_imports_records_exported_by_redun(backend: RedunBackendDb) -> None:
    """`redun export` of the 0.44.1 database (made by redun itself) imports, and
    exporting it again gives the same records (children in call order)."""
    from redun.backends.db.sync import export_records, read_records

    lines = (DATA / "redun-0.44.1-export.jsonl").read_text().splitlines()
    assert backend.put_records(read_records(lines)) == len(lines) == 50
    out = io.StringIO()
    assert export_records(backend, [], out) == 50

    def by_id(records):
        return {
            (
                r["_type"],
                r.get("id") or r.get("call_hash") or r.get("value_hash") or r.get("tag_hash"),
            ): r
            for r in records
        }

    theirs = by_id(read_records(lines))
    ours = by_id(read_records(out.getvalue().splitlines()))
    assert ours.keys() == theirs.keys()
    for key, record in theirs.items():
        if key[0] == "CallNode":
            # redun lists children in index order; the order of calls is kept here.
            assert sorted(ours[key].pop("children")) == sorted(record.pop("children"))
        assert ours[key] == record, key
    statuses = sorted(
        e.status for e in CallGraphQuery(backend.session).filter_types(["Execution"]).all()
    )
    assert statuses == ["DONE", "DONE", "FAILED"]


def test_postgres_database_written_by_redun(postgres_server) -> None:
    """`data/redun-0.44.1-postgres.sql`: pg_dump (--inserts) of a PostgreSQL database that
    redun 0.44.1 migrated (`redun db upgrade`) and ran the same workflow and tags on."""
    import psycopg

    uri = postgres_server.create_database()
    dump = (DATA / "redun-0.44.1-postgres.sql").read_text()
    with psycopg.connect(uri.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(dump)
    backend = RedunBackendDb(uri)
    backend.load()
    assert str(backend.get_db_version()) == "3.5"
    session = backend.session
    executions = list(CallGraphQuery(session).filter_types(["Execution"]).order_by("time").all())
    assert [e.status for e in executions] == ["FAILED", "DONE", "DONE"]
    assert backend.get_tags([executions[1].id])[executions[1].id]["owner"] == ["bob"]
    adds = CallGraphQuery(session).filter_task_names(["legacy.add"]).filter_types(["Job"])
    node = next(adds.all()).call_node
    hit = backend.check_cache(
        cache_query(
            node.task_hash,
            node.args_hash,
            "0" * 40,
            "new",
            set(session.execute(select(Job.task_hash)).scalars()),
            CacheScope.BACKEND,
            CacheCheckValid.SHALLOW,
        )
    )
    assert (hit.kind, hit.result) == (CacheResult.ULTIMATE, node.value_parsed)

    # Our writes go through redun's check_job_utc trigger unchanged (times are UTC).
    from datetime import datetime, timezone

    from tests.core.backends.helpers import make_task, record_call

    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    task = make_task("fresh")
    call_hash, _ = record_call(backend, task, [1], 2)
    backend.record_execution("ours", [], "our-job")
    backend.record_job_start("our-job", task, "ours", None, False, start_time=start)
    backend.record_job_end("our-job", call_hash, end_time=start)
    backend.record_tags(TagEntity.Execution, "ours", [("k", {"nested": [1]})])
    backend.flush()
    assert backend.session.get(Job, "our-job").start_time == start
    assert backend.get_tags(["ours"])["ours"]["k"] == [{"nested": [1]}]
    backend.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_fresh_schema_is_redun_schema_plus_lookup_index(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Tables, columns, nullability, indexes and foreign keys match redun 0.44.1's own
    databases; the one addition is the (task_hash, args_hash) lookup index."""
    import psycopg
    from redun.backends.db.engine import make_engine
    from redun.backends.db.migrations import migrate
    from redun.backends.db.schema import LOOKUP_INDEX

    from tests.core.backends.test_migrations import schema_of

    if kind == "sqlite":
        shutil.copy(DATA / "redun-0.44.1.db", tmp_path / "legacy.db")
        legacy_uri, fresh_uri = f"sqlite:///{tmp_path}/legacy.db", f"sqlite:///{tmp_path}/a.db"
    else:
        server = request.getfixturevalue("postgres_server")
        legacy_uri, fresh_uri = server.create_database(), server.create_database()
        with psycopg.connect(legacy_uri.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute((DATA / "redun-0.44.1-postgres.sql").read_text())
    legacy, fresh = make_engine(legacy_uri), make_engine(fresh_uri)
    migrate(fresh)
    expected, actual = schema_of(legacy), schema_of(fresh)
    actual["call_node"]["indexes"] = [
        index for index in actual["call_node"]["indexes"] if index[0] != LOOKUP_INDEX
    ]
    assert actual == expected
    legacy.dispose()
    fresh.dispose()
