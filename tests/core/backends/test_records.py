"""Records: serialization, export/import, push/pull between SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from redun.backends.base import TagEntity
from redun.backends.db import CallSubtreeTask, Execution, RedunBackendDb, RedunDatabaseError
from redun.backends.db.sync import export_records, read_records, sync_records
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.file import File
from redun.testing.postgres import PostgresServer
from sqlalchemy import select

from tests.core.backends.helpers import cache_query, make_task, record_call


@pytest.fixture
def other(db_uri: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RedunBackendDb]:
    """A second, empty database of the other kind (SQLite <-> PostgreSQL)."""
    if db_uri.startswith("sqlite"):
        server: PostgresServer = request.getfixturevalue("postgres_server")
        uri = server.create_database()
    else:
        uri = f"sqlite:///{tmp_path}/other.db"
    backend = RedunBackendDb(uri)
    backend.load(migrate=True)
    yield backend
    backend.close()


def build_history(backend: RedunBackendDb, tmp_path: Path) -> dict:
    """One execution: main -> [child(1), child(2)], a File result, tags with history."""
    main, child = make_task("main", namespace="demo"), make_task("child", namespace="demo")
    out = tmp_path / "out.txt"
    out.write_text("data")
    first, _ = record_call(backend, child, [1], 2)
    second, _ = record_call(backend, child, [2], 3, upstream={0: (first,)})
    root, root_args = record_call(
        backend,
        main,
        [],
        [2, 3, File(str(out))],
        children=(first, second),
        subtree=(child.hash,),
    )
    backend.record_execution("exec-1", ["redun", "run", "wf.py", "main"], "job-root")
    backend.record_job_start("job-root", main, "exec-1", None, False)
    backend.record_job_start("job-a", child, "exec-1", "job-root", False)
    backend.record_job_start("job-b", child, "exec-1", "job-root", True)
    backend.record_job_end("job-a", first)
    backend.record_job_end("job-b", second)
    backend.record_job_end("job-root", root)
    backend.record_tags(TagEntity.Execution, "exec-1", [("env", "dev")])
    backend.record_tags(TagEntity.Execution, "exec-1", [("env", "prod")], update=True)
    backend.flush()
    return {"main": main, "child": child, "root": root, "root_args": root_args}


def test_records_round_trip_through_json_lines(
    backend: RedunBackendDb, other: RedunBackendDb, tmp_path: Path
) -> None:
    history = build_history(backend, tmp_path)
    out = io.StringIO()
    written = export_records(backend, [], out)
    lines = out.getvalue().splitlines()
    assert written == len(lines)
    types = [json.loads(line)["_type"] for line in lines]
    assert types.count("Execution") == 1 and types.count("Job") == 3
    assert types.count("CallNode") == 3 and types.count("Tag") == 2

    assert other.put_records(read_records(lines)) == written
    assert other.put_records(read_records(lines)) == 0

    ids = list(backend.iter_record_ids(["exec-1"]))
    assert sorted(ids) == sorted(other.iter_record_ids(["exec-1"]))
    assert list(other.get_records(ids)) == list(backend.get_records(ids))
    assert other.get_tags(["exec-1"])["exec-1"]["env"] == ["prod"]

    # Subtree task sets are rebuilt, so the imported call graph serves ultimate hits.
    root = history["root"]
    subtree = set(
        other.session.execute(
            select(CallSubtreeTask.task_hash).where(CallSubtreeTask.call_hash == root)
        ).scalars()
    )
    assert subtree == {history["main"].hash, history["child"].hash}
    hit = other.check_cache(
        cache_query(
            history["main"].hash,
            history["root_args"],
            "0" * 40,
            "new-exec",
            subtree,
            CacheScope.BACKEND,
            CacheCheckValid.SHALLOW,
        )
    )
    assert hit.kind == CacheResult.ULTIMATE
    assert hit.result[:2] == [2, 3]


def test_job_record_fields(backend: RedunBackendDb, tmp_path: Path) -> None:
    build_history(backend, tmp_path)
    [job] = backend.get_records(["job-root"])
    assert job["_version"] == 1 and job["status"] == "DONE"
    assert job["children"] == ["job-a", "job-b"]
    [cached] = backend.get_records(["job-b"])
    assert cached["status"] == "CACHED"
    [execution] = backend.get_records(["exec-1"])
    assert execution == {
        "_version": 1,
        "_type": "Execution",
        "id": "exec-1",
        "args": '["redun", "run", "wf.py", "main"]',
        "job_id": "job-root",
    }


def test_push_and_pull_are_idempotent(
    backend: RedunBackendDb, other: RedunBackendDb, tmp_path: Path
) -> None:
    build_history(backend, tmp_path)
    pushed = sync_records(backend, other)
    assert pushed > 0
    assert sync_records(backend, other) == 0
    assert sync_records(other, backend) == 0

    task = make_task("later")
    call_hash, _ = record_call(other, task, [9], 9)
    other.record_execution("exec-2", [], "job-2")
    other.record_job_start("job-2", task, "exec-2", None, False)
    other.record_job_end("job-2", call_hash)
    other.flush()
    pulled = sync_records(other, backend, ["exec-2"])
    assert pulled == len(list(other.iter_record_ids(["exec-2"])))
    assert backend.session.get(Execution, "exec-2").status == "DONE"
    assert sync_records(other, backend) == 0


def test_put_records_rejects_bad_input(backend: RedunBackendDb) -> None:
    with pytest.raises(RedunDatabaseError, match="Line 1 is not a JSON record"):
        list(read_records(["{nope"]))
    with pytest.raises(RedunDatabaseError, match="Unsupported record version"):
        backend.put_records([{"_version": 2, "_type": "Execution", "id": "e"}])
    orphan = {
        "_version": 1,
        "_type": "Execution",
        "id": "e",
        "args": "[]",
        "job_id": "missing-job",
    }
    with pytest.raises(RedunDatabaseError, match="refer to records that are neither given"):
        backend.put_records([orphan])
