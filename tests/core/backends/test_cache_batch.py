"""check_cache_many: the same answers as check_cache, one round trip for a batch of siblings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redun.backends.base import CacheQuery
from redun.backends.db import RedunBackendDb
from redun.backends.db import hot_queries as hot
from redun.backends.db.backend import EVAL_BATCH
from redun.backends.db.driver_sql import DriverStatement
from redun.cache import CacheCheckValid, CacheResult, CacheScope
from redun.hashing import hash_struct
from sqlalchemy import event

from tests.core.backends.helpers import cache_query, make_task, record_call

FULL = CacheCheckValid.FULL
SHALLOW = CacheCheckValid.SHALLOW
BACKEND = CacheScope.BACKEND


@contextmanager
def selects(backend: RedunBackendDb) -> Iterator[list[str]]:
    """The SELECT statements the backend runs inside the block."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(backend.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(backend.engine, "before_cursor_execute", on_execute)


def record_eval(backend: RedunBackendDb, task, arg: int, result: object) -> tuple[str, str]:
    """A call of `task` on `arg` with its single-reduction cache; (eval_hash, args_hash)."""
    _, args_hash = record_call(backend, task, [arg], result)
    eval_hash = hash_struct(["Eval", task.hash, args_hash])
    backend.set_eval_cache(eval_hash, task.hash, args_hash, result, backend.record_value(result))
    return eval_hash, args_hash


def answer(hit) -> tuple:
    return (hit.result, hit.call_hash, hit.kind, hit.value_hash)


def test_batch_answers_exactly_as_one_by_one(backend: RedunBackendDb) -> None:
    task = make_task("sib")
    stored = [record_eval(backend, task, i, i * 10) for i in range(5)]
    backend.record_job_start("job1", task, "exec1", None, False)
    backend.record_execution("exec1", ["redun", "run"], "job1")
    call_hash, cse_args = record_call(backend, task, [99], 990)
    backend.record_job_end("job1", call_hash)
    backend.flush()
    buffered = [record_eval(backend, task, i, i * 10) for i in range(100, 103)]
    missing_args = hash_struct(["TaskArguments", ["0" * 40], {}])
    missing = (hash_struct(["Eval", task.hash, missing_args]), missing_args)

    def query(pair, execution="exec2", valid=FULL, allowed=None, scope=BACKEND) -> CacheQuery:
        eval_hash, args_hash = pair
        without_cse = {CacheResult.ULTIMATE, CacheResult.SINGLE} if allowed is None else allowed
        return cache_query(
            task.hash, args_hash, eval_hash, execution, {task.hash}, scope, valid, None, without_cse
        )

    cse_eval = hash_struct(["Eval", task.hash, cse_args])
    queries = [
        *(query(pair) for pair in stored),
        *(query(pair) for pair in buffered),
        query(missing),
        query(stored[0], valid=SHALLOW),
        query((cse_eval, cse_args), execution="exec1", allowed=set(CacheResult)),
        query(stored[1], scope=CacheScope.NONE),
        query(stored[2], allowed={CacheResult.ULTIMATE}),
    ]
    batched = [answer(hit) for hit in backend.check_cache_many(queries)]
    assert batched == [answer(backend.check_cache(q)) for q in queries]
    # The answers themselves: hits where stored or buffered, misses elsewhere.
    kinds = [kind for _, _, kind, _ in batched]
    assert kinds == [CacheResult.SINGLE] * 8 + [
        CacheResult.MISS,
        CacheResult.ULTIMATE,
        CacheResult.CSE,
        CacheResult.MISS,
        CacheResult.MISS,
    ]
    assert [result for result, *_ in batched[:8]] == [0, 10, 20, 30, 40, 1000, 1010, 1020]

    # A second process sees the same answers from the database alone.
    other = RedunBackendDb(backend.db_uri)
    other.load()
    backend.flush()
    try:
        assert [answer(h) for h in other.check_cache_many(queries)] == [
            answer(h) for h in backend.check_cache_many(queries)
        ]
    finally:
        other.close()


def test_siblings_cost_one_query_per_batch(backend: RedunBackendDb) -> None:
    task = make_task("fan")
    count = EVAL_BATCH + 200
    pairs = [record_eval(backend, task, i, i) for i in range(count)]
    backend.flush()
    reader = RedunBackendDb(backend.db_uri)
    reader.load()
    queries = [
        cache_query(task.hash, a, e, "exec", {task.hash}, BACKEND, FULL, None, {CacheResult.SINGLE})
        for e, a in pairs
    ]
    try:
        reader.check_cache_many(queries[:2])  # connects and prepares outside the count
        with selects(reader) as seen:
            hits = reader.check_cache_many(queries)
        assert [hit.result for hit in hits] == list(range(count))
        assert all(hit.kind == CacheResult.SINGLE for hit in hits)
        assert len(seen) == 2  # EVAL_BATCH hashes per query
        # The hits' call nodes came with the rows: recording those calls again writes none.
        for i in range(3):
            record_call(reader, task, [i], i)
        inserts: list[str] = []
        event.listen(
            reader.engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *args: inserts.append(statement),
        )
        reader.flush()
        assert not [s for s in inserts if s.startswith("INSERT INTO call_node")]
    finally:
        reader.close()


def test_prefetched_rows_do_not_outlive_the_batch(backend: RedunBackendDb) -> None:
    task = make_task("late")
    pairs = [record_eval(backend, task, i, i) for i in range(3)]
    late_args = hash_struct(["TaskArguments", [backend.record_value(7)], {}])
    late_eval = hash_struct(["Eval", task.hash, late_args])
    backend.flush()
    queries = [
        cache_query(task.hash, a, e, "exec", {task.hash}, BACKEND, FULL, None, {CacheResult.SINGLE})
        for e, a in [*pairs, (late_eval, late_args)]
    ]
    assert backend.check_cache_many(queries)[-1].kind == CacheResult.MISS
    # Recorded and written after the batch: a later lookup finds it in the database.
    backend.set_eval_cache(late_eval, task.hash, late_args, 7, backend.record_value(7))
    backend.flush()
    assert backend.check_cache(queries[-1]).result == 7
    assert backend.check_cache_many(queries)[-1].result == 7


def test_a_hash_asked_twice_in_a_batch_answers_once(backend: RedunBackendDb) -> None:
    task = make_task("twice")
    pairs = [record_eval(backend, task, i, i) for i in range(3)]
    backend.flush()
    rows = backend._query(
        hot.eval_results(backend.engine.dialect.name),
        {
            "hashes": hot.hash_list(
                backend.engine.dialect.name, [pairs[0][0], *(e for e, _ in pairs)]
            )
        },
    )
    assert sorted(row[0] for row in rows) == sorted(e for e, _ in pairs)


@pytest.mark.postgres
def test_postgres_looks_each_hash_up_by_index_before_any_analyze(postgres_server) -> None:
    backend = RedunBackendDb(postgres_server.create_database())
    backend.load(migrate=True)
    task = make_task("planned")
    pairs = [record_eval(backend, task, i, i) for i in range(3000)]
    backend.flush()
    try:
        statement = DriverStatement(hot.eval_results("postgresql"), backend.engine.dialect)
        hashes = {"hashes": hot.hash_list("postgresql", [e for e, _ in pairs[:500]])}
        with backend.engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN " + statement.sql, statement.params(hashes)
            ).scalars()
            plan_text = "\n".join(plan)
        # Never analyzed, the tables look small: whole-table joins are what it must avoid.
        assert "Seq Scan" not in plan_text, plan_text
        assert "Index Scan using evaluation_pkey" in plan_text, plan_text
    finally:
        backend.close()
