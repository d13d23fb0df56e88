"""RedunBackendDb: values, call nodes, cache lookups, jobs, handles (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from redun.backends.base import ArgumentRecord, TagEntity
from redun.backends.db import (
    LATEST_DB_VERSION,
    CallEdge,
    CallNode,
    CallSubtreeTask,
    Execution,
    Job,
    RedunBackendDb,
    RedunDatabaseError,
    Subvalue,
)
from redun.backends.db import File as FileRow
from redun.backends.db import Task as TaskRow
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.file import File
from redun.hashing import hash_call_node, hash_struct
from sqlalchemy import event, func, select

from tests.core.backends.helpers import cache_query, make_task, record_call

BACKEND = CacheScope.BACKEND
SHALLOW = CacheCheckValid.SHALLOW
FULL = CacheCheckValid.FULL


def count(backend: RedunBackendDb, model: type) -> int:
    return backend.session.execute(select(func.count()).select_from(model)).scalar()


def test_value_round_trip_before_and_after_flush(backend: RedunBackendDb) -> None:
    value = {"a": [1, 2.5, "x"], "b": None}
    value_hash = backend.record_value(value)
    assert value_hash == backend.type_registry.get_hash(value)
    assert backend.get_value(value_hash) == (value, True)
    backend.flush()
    assert backend.get_value(value_hash) == (value, True)
    assert backend.record_value(value) == value_hash
    assert backend.get_value("0" * 40) == (None, False)


def test_files_in_a_list_get_file_rows_and_subvalues(backend: RedunBackendDb, tmp_path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello")
    file = File(str(path))
    parent_hash = backend.record_value([file, 3])
    backend.flush()
    file_hash = backend.type_registry.get_hash(file)
    row = backend.session.get(FileRow, file_hash)
    assert row is not None and row.path == str(path)
    edges = backend.session.execute(select(Subvalue.value_hash, Subvalue.parent_value_hash)).all()
    assert edges == [(file_hash, parent_hash)]


def test_max_value_size_is_a_clear_error(db_uri: str) -> None:
    backend = RedunBackendDb(db_uri, config={"max_value_size": "100"})
    backend.load(migrate=True)
    with pytest.raises(RedunDatabaseError, match="too large.*max_value_size 100"):
        backend.record_value("x" * 1000)
    assert backend.record_value("small")
    backend.close()


def test_value_store_keeps_large_values_outside_the_database(db_uri: str, tmp_path) -> None:
    config = {"value_store_path": "values", "config_dir": str(tmp_path)}
    backend = RedunBackendDb(db_uri, config=config)
    backend.load(migrate=True)
    big, small = "x" * 5000, "y"
    big_hash, small_hash = backend.record_value(big), backend.record_value(small)
    backend.flush()
    stored = tmp_path / "values" / big_hash[:2] / big_hash[2:]
    assert stored.exists()
    assert not (tmp_path / "values" / small_hash[:2]).exists()
    assert backend.get_value(big_hash) == (big, True)
    stored.unlink()
    assert backend.get_value(big_hash) == (None, False)
    backend.close()


def test_call_node_hash_edges_arguments_and_subtree(backend: RedunBackendDb) -> None:
    child_task, parent_task = make_task("child"), make_task("parent")
    child_hash, _ = record_call(backend, child_task, [1], 2)
    parent_hash, args_hash = record_call(
        backend,
        parent_task,
        [1],
        2,
        children=(child_hash,),
        subtree=(child_task.hash,),
        upstream={0: (child_hash,)},
    )
    result_hash = backend.type_registry.get_hash(2)
    assert parent_hash == hash_call_node(parent_task.hash, args_hash, result_hash, [child_hash])
    assert backend.get_subtree_tasks(parent_hash) == {parent_task.hash, child_task.hash}
    backend.flush()
    assert backend.get_subtree_tasks(parent_hash) == {parent_task.hash, child_task.hash}
    node = backend.session.get(CallNode, parent_hash)
    assert [child.call_hash for child in node.children] == [child_hash]
    [argument] = node.arguments
    value_hash = backend.type_registry.get_hash(1)
    assert argument.arg_hash == hash_struct(["Argument", parent_hash, "0", "None", value_hash])
    assert [up.call_hash for up in argument.upstream] == [child_hash]
    assert node.task.fullname == "parent"
    assert node.value_parsed == 2


def test_flush_writes_a_tick_with_one_statement_per_table(backend: RedunBackendDb) -> None:
    statements: list[str] = []

    def on_execute(conn, cursor, statement, *args) -> None:
        statements.append(statement.split()[0].upper())

    task = make_task("many")
    backend.record_value(task, task.hash)
    for i in range(200):
        record_call(backend, task, [i], i * 2)
    event.listen(backend.engine, "before_cursor_execute", on_execute)
    backend.flush()
    event.remove(backend.engine, "before_cursor_execute", on_execute)
    assert statements.count("INSERT") <= 8
    assert count(backend, CallNode) == 200
    assert count(backend, CallSubtreeTask) == 200


def check(backend, task, args_hash, eval_hash, exec_id, scope=BACKEND, valid=SHALLOW, **kw):
    return backend.check_cache(
        cache_query(task.hash, args_hash, eval_hash, exec_id, {task.hash}, scope, valid, **kw)
    )


@pytest.mark.parametrize("flush", [False, True])
def test_check_cache_order_cse_ultimate_single(backend: RedunBackendDb, flush: bool) -> None:
    task = make_task("add")
    call_hash, args_hash = record_call(backend, task, [1, 2], 3)
    eval_hash = hash_struct(["Eval", task.hash, args_hash])
    backend.record_job_start("job1", task, "exec1", None, False)
    backend.record_execution("exec1", ["redun", "run"], "job1")
    backend.record_job_end("job1", call_hash)
    if flush:
        backend.flush()

    hit = check(backend, task, args_hash, eval_hash, "exec1")
    assert (hit.result, hit.call_hash, hit.kind) == (3, call_hash, CacheResult.CSE)

    hit = check(backend, task, args_hash, eval_hash, "exec2")
    assert (hit.result, hit.call_hash, hit.kind) == (3, call_hash, CacheResult.ULTIMATE)

    # Ultimate results are valid only if every task below is still the current code.
    hit = backend.check_cache(
        cache_query(task.hash, args_hash, eval_hash, "exec2", set(), BACKEND, SHALLOW)
    )
    assert hit.kind == CacheResult.MISS

    backend.set_eval_cache(eval_hash, task.hash, args_hash, 3, backend.record_value(3))
    hit = check(backend, task, args_hash, eval_hash, "exec2", valid=FULL)
    assert (hit.result, hit.call_hash, hit.kind) == (3, None, CacheResult.SINGLE)

    assert check(backend, task, args_hash, eval_hash, "exec1", scope=CacheScope.NONE).kind == (
        CacheResult.MISS
    )
    hit = check(backend, task, args_hash, eval_hash, "exec2", scope=CacheScope.CSE)
    assert hit.kind == CacheResult.MISS
    hit = check(
        backend,
        task,
        args_hash,
        eval_hash,
        "exec1",
        allowed_cache_results={CacheResult.SINGLE},
    )
    assert hit.kind == CacheResult.SINGLE


def test_written_calls_leave_the_cse_map_and_still_hit(backend: RedunBackendDb) -> None:
    """The in-memory CSE map holds the buffer's calls only (a million-job execution
    must not keep a million entries); written ones are found by the database query."""
    task = make_task("add")
    calls = []
    backend.record_job_start("root", task, "exec1", None, False)
    backend.record_execution("exec1", ["redun", "run"], "root")
    for i in range(3):
        call_hash, args_hash = record_call(backend, task, [i, 1], i + 1)
        backend.record_job_start(f"job{i}", task, "exec1", "root", False)
        backend.record_job_end(f"job{i}", call_hash)
        calls.append((call_hash, args_hash, i + 1))
    assert len(backend._cse) == 3
    backend.flush()
    assert backend._cse == {}
    for call_hash, args_hash, result in calls:
        eval_hash = hash_struct(["Eval", task.hash, args_hash])
        hit = check(backend, task, args_hash, eval_hash, "exec1")
        assert (hit.result, hit.call_hash, hit.kind) == (result, call_hash, CacheResult.CSE)


def test_evaluations_are_upserted(backend: RedunBackendDb) -> None:
    task = make_task("f")
    backend.record_value(task, task.hash)
    backend.set_eval_cache("e" * 40, task.hash, "a" * 40, 1, backend.record_value(1))
    backend.flush()
    backend.set_eval_cache("e" * 40, task.hash, "a" * 40, 2, backend.record_value(2))
    backend.flush()
    hit = backend.check_cache(cache_query(task.hash, "a" * 40, "e" * 40, "x", set(), BACKEND, FULL))
    assert hit.result == 2


def test_context_restricts_cache_hits(backend: RedunBackendDb) -> None:
    task = make_task("ctx")
    call_hash, args_hash = record_call(backend, task, [1], 1)
    backend.record_call_node_context(call_hash, "c" * 40)
    backend.flush()
    other = RedunBackendDb(backend.db_uri)
    other.load()
    for store in (backend, other):
        hit = check(store, task, args_hash, "e" * 40, "exec", context_hash="c" * 40)
        assert hit.call_hash == call_hash
        hit = check(store, task, args_hash, "e" * 40, "exec", context_hash="d" * 40)
        assert hit.kind == CacheResult.MISS
    other.close()


def test_cse_sees_jobs_of_other_processes_in_the_same_execution(db_uri: str) -> None:
    writer, reader = RedunBackendDb(db_uri), RedunBackendDb(db_uri)
    writer.load(migrate=True)
    reader.load()
    task = make_task("shared")
    call_hash, args_hash = record_call(writer, task, [5], 6)
    writer.record_execution("exec", [], "root")
    writer.record_job_start("root", task, "exec", None, False)
    writer.record_job_end("root", call_hash)
    writer.flush()
    hit = reader.check_cache(
        cache_query(task.hash, args_hash, "e" * 40, "exec", set(), CacheScope.CSE, FULL)
    )
    assert (hit.kind, hit.result) == (CacheResult.CSE, 6)
    writer.close()
    reader.close()


def test_execution_is_written_when_its_root_job_starts(backend: RedunBackendDb) -> None:
    task = make_task("main")
    backend.record_execution("exec", ["redun", "run", "wf.py", "main"], "root")
    backend.flush()
    assert count(backend, Execution) == 0

    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    backend.record_job_start("root", task, "exec", None, False, start_time=start)
    backend.record_job_start("child", task, "exec", "root", True, start_time=start)
    backend.flush()
    execution = backend.session.get(Execution, "exec")
    assert execution.args == '["redun", "run", "wf.py", "main"]'
    assert execution.status == "RUNNING"
    assert backend.session.get(Job, "root").start_time == start

    call_hash, _ = record_call(backend, task, [], 1)
    backend.record_job_end("child", call_hash)
    backend.record_job_end("root", call_hash, end_time=start + timedelta(seconds=2))
    backend.record_updated_time("exec", start + timedelta(seconds=1))
    backend.flush()
    backend.session.expire_all()
    execution = backend.session.get(Execution, "exec")
    assert execution.status == "DONE"
    assert execution.updated_time == start + timedelta(seconds=1)
    assert execution.job.duration == timedelta(seconds=2)
    assert [job.status for job in execution.job.child_jobs] == ["CACHED"]
    assert backend.get_job("child") == {
        "job_id": "child",
        "parent_id": "root",
        "execution_id": "exec",
    }


def test_failed_job_status_comes_from_an_error_result(backend: RedunBackendDb) -> None:
    from redun.tracebacks import ErrorValue

    task = make_task("boom")
    error_value = ErrorValue(ValueError("boom"), None)
    call_hash, _ = record_call(backend, task, [], error_value)
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False)
    backend.record_job_end("root", call_hash)
    assert backend.session.get(Job, "root").status == "FAILED"
    assert backend.session.get(Execution, "exec").status == "FAILED"


def test_explain_cache_miss(backend: RedunBackendDb) -> None:
    """The contract's explainer compares a live call with the recorded ones."""
    from redun.backends.reasons import ArgInfo

    def explain(task: Any, args_hash: str, value: int) -> Any:
        query = cache_query(task.hash, args_hash, "e" * 40, "x", {task.hash}, BACKEND, FULL)
        query = dataclasses.replace(query, task_name=task.fullname)
        live = {"x": ArgInfo(backend.type_registry.get_hash(value), repr(value), {})}
        return backend.explain_cache_miss(query, live, ["x"])

    task = make_task("explain", source="def explain(x): return x")
    assert explain(task, "a" * 40, 1).kind == "never_run"
    _, args_hash = record_call(backend, task, [1], 1)
    edited = make_task("explain", source="def explain(x): return x + 0")
    reason = explain(edited, args_hash, 1)
    assert (reason.kind, reason.previous_task_hash) == ("new_task", task.hash)
    reason = explain(task, "b" * 40, 2)
    assert reason.kind == "new_args"
    assert reason.message() == "New arguments: x changed (1 --> 2)."


def test_foreign_keys_hold_after_every_flush(backend: RedunBackendDb) -> None:
    task = make_task("fk")
    backend.record_value(task, task.hash)
    backend.record_call_node(
        "fk", task.hash, "a" * 40, [ArgumentRecord(0, None, "f" * 40)], "f" * 40, [], ()
    )
    with pytest.raises(RedunDatabaseError, match="Could not record provenance"):
        backend.flush()


def test_handles_advance_and_roll_back(backend: RedunBackendDb) -> None:
    from redun.handle import Handle

    class Conn(Handle):
        def __init__(self, name: str, url: str) -> None:
            self.url = url

    root = Conn("conn", "db://x")
    forked = root.__handle__.fork(root, "k")
    step1 = forked.__handle__.apply_call(forked, "c" * 40)
    backend.advance_handle([forked], step1)
    step2 = step1.__handle__.apply_call(step1, "d" * 40)
    backend.advance_handle([step1], step2)
    assert backend.is_valid_handle(step2)
    backend.flush()
    assert backend.is_valid_handle(step1) and backend.is_valid_handle(step2)
    backend.rollback_handle(forked)
    assert not backend.is_valid_handle(step1)
    assert not backend.is_valid_handle(step2)
    assert backend.is_valid_handle(forked)


def test_task_companion_rows(backend: RedunBackendDb) -> None:
    task = make_task("comp", namespace="ns")
    backend.record_value(task, task.hash)
    row = backend.session.get(TaskRow, task.hash)
    assert (row.name, row.namespace, row.fullname) == ("comp", "ns", "ns.comp")
    assert row.value.type == "redun.Task"


def test_tags_recorded_on_the_hot_path_are_buffered(backend: RedunBackendDb) -> None:
    [(tag_hash, entity_id, key, value)] = backend.record_tags(
        TagEntity.Execution, "exec", [("project", "demo")]
    )
    assert backend.get_tags(["exec"])["exec"]["project"] == ["demo"]
    assert (entity_id, key, value) == ("exec", "project", "demo")
    from redun.hashing import hash_tag

    assert tag_hash == hash_tag("exec", "project", "demo", [])


def test_an_unloaded_backend_reads_its_version_without_creating_a_schema() -> None:
    """A backend is usable once built (redun's); reading the version must not migrate."""
    backend = RedunBackendDb("sqlite:///:memory:")
    assert backend.get_db_version().major == -1
    assert backend.session.query(Execution).count() == 0
    assert backend.get_db_version() == LATEST_DB_VERSION


def test_call_edges_keep_call_order_and_repeats(backend: RedunBackendDb) -> None:
    child_task, parent_task = make_task("c"), make_task("p")
    first, _ = record_call(backend, child_task, [1], 1)
    second, _ = record_call(backend, child_task, [2], 2)
    parent, _ = record_call(backend, parent_task, [], 3, children=(second, first, second))
    backend.flush()
    rows = backend.session.execute(
        select(CallEdge.child_id).where(CallEdge.parent_id == parent).order_by(CallEdge.call_order)
    ).scalars()
    assert list(rows) == [second, first, second]


def test_in_memory_database_reads_and_writes_interleave() -> None:
    """`sqlite:///:memory:` is one shared connection: an open ORM read must not block flush."""
    backend = RedunBackendDb("sqlite:///:memory:")
    backend.load()
    session = backend.session
    assert session.execute(select(Job)).all() == []
    task = make_task("mem")
    backend.record_execution("exec", [], "root")
    backend.record_job_start("root", task, "exec", None, False)
    backend.flush()
    assert session.execute(select(Job.id)).scalars().all() == ["root"]
    assert backend.session.get(Execution, "exec").status == "RUNNING"
    backend.close()


def test_cache_lookups_use_the_task_and_arguments_index(tmp_path) -> None:
    from redun.backends.db import hot_queries

    backend = RedunBackendDb(f"sqlite:///{tmp_path}/redun.db")
    backend.load()
    with backend.engine.connect() as connection:
        for stmt in (hot_queries.CSE_OR_SINGLE[False], hot_queries.ULTIMATE[False]):
            sql = str(stmt.compile(dialect=backend.engine.dialect))
            plan = connection.exec_driver_sql(
                "explain query plan " + sql, tuple("x" * sql.count("?"))
            ).all()
            assert "ix_call_node_task_hash_args_hash" in str(plan), plan
    backend.close()


def test_lookups_reconnect_after_the_server_drops_connections(postgres_server) -> None:
    import psycopg

    backend = RedunBackendDb(postgres_server.create_database())
    backend.load(migrate=True)
    task = make_task("survivor")
    call_hash, args_hash = record_call(backend, task, [1], 2)
    backend.set_eval_cache("e" * 40, task.hash, args_hash, 2, backend.record_value(2))
    backend.flush()
    assert check(backend, task, args_hash, "e" * 40, "x", valid=FULL).result == 2
    database = backend.engine.url.database
    with psycopg.connect(postgres_server.url(driver="postgresql"), autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            (database,),
        )
    hit = check(backend, task, args_hash, "e" * 40, "x", valid=FULL)
    assert (hit.kind, hit.result) == (CacheResult.SINGLE, 2)
    record_call(backend, task, [3], 4)
    backend.flush()
    assert backend.get_value(backend.type_registry.get_hash(4)) == (4, True)
    backend.close()


def test_redun_compatible_helpers(backend: RedunBackendDb) -> None:
    task = make_task("compat")
    call_hash, args_hash = record_call(backend, task, [1], "one")
    backend.set_eval_cache("e" * 40, task.hash, args_hash, "one", backend.record_value("one"))
    assert backend.get_call_cache(call_hash) == ("one", True)
    assert backend.get_eval_cache("e" * 40) == ("one", True)
    assert backend.get_eval_cache("f" * 40) == (None, False)
    low, high = backend.get_db_version_required()
    assert (str(low), high.major) == ("3.5", 3)
    assert backend.get_all_db_versions()[-1] == backend.get_db_version()
    assert backend.is_db_compatible()


def test_previews_of_unloadable_and_large_values(backend: RedunBackendDb, tmp_path) -> None:
    import sys

    from redun.backends.db import PreviewValue, Value
    from redun.backends.db.backend import MAX_VALUE_SIZE_PREVIEW

    module = tmp_path / "gone_module.py"
    module.write_text("class Point:\n    def __init__(self, x):\n        self.x = x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import gone_module

        point_hash = backend.record_value(gone_module.Point(3))
    finally:
        sys.path.remove(str(tmp_path))
        del sys.modules["gone_module"]
    big_hash = backend.record_value(b"x" * (MAX_VALUE_SIZE_PREVIEW + 10))
    backend.flush()

    assert backend.get_value(point_hash) == (None, False)
    row = backend.session.get(Value, point_hash)
    assert row.value_parsed is None
    preview = row.preview
    assert type(preview).__name__ == "Point" and preview.x == 3
    big = backend.session.get(Value, big_hash).preview
    assert isinstance(big, PreviewValue) and big.size > MAX_VALUE_SIZE_PREVIEW
    assert repr(big).startswith("builtins.bytes(hash=")
