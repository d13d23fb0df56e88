"""redun.backends.db.browse on repos filled by really running workflows (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from redun import Scheduler, task
from redun.backends.db import Job, RedunBackendDb, browse
from redun.backends.db.query import CallGraphQuery, QueryError
from redun.config import Config
from redun.tags import ANY_VALUE
from redun.tracebacks import ErrorValue
from sqlalchemy import event

from tests.core.backends.helpers import make_task, record_call

if TYPE_CHECKING:
    from redun.backends.db import RedunSession

redun_namespace = "browse_test"


@task
def leaf(x: int) -> int:
    return x * 2


@task
def boom(x: int) -> int:
    raise ValueError(f"boom {x}")


@task
def main(n: int) -> list:
    return [leaf(i) for i in range(n)]


@task
def failing(n: int) -> list:
    return [leaf(n), boom(n)]


@dataclass
class Repo:
    backend: RedunBackendDb
    executions: dict[str, str] = field(default_factory=dict)

    @property
    def session(self) -> RedunSession:
        return self.backend.session


def _run(db_uri: str, expr: object, argv: list[str], tags: list | None = None) -> str:
    config = Config({"backend": {"db_uri": db_uri, "automigrate": "true"}})
    scheduler = Scheduler(config=config)
    try:
        scheduler.run(expr, exec_argv=argv, tags=tags or [])
    except ValueError:
        pass  # the failing workflow: its failure is what gets recorded
    finally:
        scheduler.backend.close()
    reader = RedunBackendDb(db_uri)
    reader.load()
    try:
        return browse.list_executions(reader.session, size=1)[0].id
    finally:
        reader.close()


@pytest.fixture
def repo(db_uri: str) -> Iterator[Repo]:
    """done (main 3, env=prod), cached (main 3 again, env=dev), failed (failing 2)."""
    executions = {
        "done": _run(db_uri, main(3), ["redun", "run", "wf.py", "main"], [("env", "prod")]),
        "cached": _run(db_uri, main(3), ["redun", "run", "wf.py", "main"], [("env", "dev")]),
        "failed": _run(db_uri, failing(2), ["redun", "run", "wf.py", "failing"]),
    }
    backend = RedunBackendDb(db_uri)
    backend.load()
    yield Repo(backend, executions)
    backend.close()


def test_executions_newest_first_with_status_task_and_tags(repo: Repo) -> None:
    rows = browse.list_executions(repo.session)
    by_name = {name: next(r for r in rows if r.id == i) for name, i in repo.executions.items()}
    assert [row.id for row in rows] == [repo.executions[n] for n in ("failed", "cached", "done")]
    assert {name: row.status for name, row in by_name.items()} == {
        "done": "DONE",
        "cached": "DONE",
        "failed": "FAILED",
    }
    done = by_name["done"]
    assert done.task == "browse_test.main"
    assert done.tags == (("env", "prod"),)
    assert '"main"' in done.args and done.end_time is not None and done.start_time is not None
    assert browse.get_execution(repo.session, done.id) == done
    assert browse.get_execution(repo.session, "no-such-id") is None


def test_execution_filters(repo: Repo) -> None:
    def ids(**filters: object) -> list[str]:
        return [row.id for row in browse.list_executions(repo.session, **filters)]

    done, cached, failed = (repo.executions[n] for n in ("done", "cached", "failed"))
    assert ids(statuses=["FAILED"]) == [failed]
    assert ids(statuses=["DONE"]) == [cached, done]
    assert ids(statuses=["RUNNING"]) == []
    assert ids(tasks=["browse_test.boom"]) == [failed]
    assert ids(tasks=["boom"]) == [failed]
    assert ids(tasks=["*.ma*"]) == [cached, done]
    assert ids(tags=[("env", "prod")]) == [done]
    assert ids(tags=[("env", ANY_VALUE)]) == [cached, done]
    assert ids(tags=[("env", "dev")], statuses=["DONE"]) == [cached]
    assert ids(words=["failing"]) == [failed]
    assert ids(words=[done[:8]]) == [done]
    started = browse.get_execution(repo.session, cached)
    assert started is not None
    assert ids(after=started.start_time) == [failed, cached]
    assert ids(before=started.start_time) == [done]
    assert ids(after=started.start_time + timedelta(days=1)) == []
    assert ids(page=1, size=2) == [done]
    with pytest.raises(QueryError):
        ids(statuses=["CACHED"])


def test_jobs_children_and_status_counts(repo: Repo) -> None:
    execution = browse.get_execution(repo.session, repo.executions["done"])
    assert execution is not None
    root = browse.get_job(repo.session, execution.job_id)
    assert root is not None
    assert (root.task, root.status, root.children, root.parent_id) == (
        "browse_test.main",
        "DONE",
        3,
        None,
    )
    children = browse.child_jobs(repo.session, root.id)
    assert [job.task for job in children] == ["browse_test.leaf"] * 3
    assert {job.parent_id for job in children} == {root.id}
    pages = [browse.child_jobs(repo.session, root.id, page, 2) for page in range(3)]
    assert [[job.id for job in page] for page in pages] == [
        [job.id for job in children[:2]],
        [children[2].id],
        [],
    ]
    leafs = browse.execution_jobs(repo.session, execution.id, task="leaf")
    assert [job.id for job in leafs] == [job.id for job in children]
    assert browse.execution_jobs(repo.session, execution.id, status="FAILED") == []
    assert browse.job_status_counts(repo.session, execution.id) == {
        "browse_test.leaf": {"DONE": 3},
        "browse_test.main": {"DONE": 1},
    }

    failed = browse.get_execution(repo.session, repo.executions["failed"])
    assert failed is not None
    counts = browse.job_status_counts(repo.session, failed.id)
    assert counts["browse_test.boom"] == {"FAILED": 1}
    assert counts["browse_test.failing"] == {"FAILED": 1}
    [boom_job] = browse.execution_jobs(repo.session, failed.id, status="FAILED", task="*boom")
    assert (boom_job.task, boom_job.status) == ("browse_test.boom", "FAILED")

    newest = browse.task_jobs(repo.session, root.task_hash)
    assert [job.execution_id for job in newest][-1] == execution.id
    assert [job.start_time for job in newest] == sorted(
        (job.start_time for job in newest), reverse=True
    )


def test_ids_calls_values_and_tasks(repo: Repo) -> None:
    reader = repo.backend.reader()
    execution = reader.execution(repo.executions["done"])
    assert execution is not None
    root = reader.job(execution.job_id)
    assert root is not None and root.call_hash is not None
    assert reader.ids_with_prefix("Execution", execution.id[:8]) == [execution.id]
    assert reader.ids_with_prefix("Job", "zz-no-such") == []
    assert reader.first_job_of_call(root.call_hash) == root.id
    root_detail = reader.job_detail(root.id)
    assert [arg.name for arg in root_detail.call.arguments] == ["0"]
    assert root_detail.call.arguments[0].value.preview == "3"

    # The second run of main(3) reused the first one's result, and says whose.
    cached_run = reader.execution(repo.executions["cached"])
    assert cached_run is not None
    cached_root = reader.job(cached_run.job_id)
    assert cached_root is not None and cached_root.cached and cached_root.status == "CACHED"
    reason = reader.explain_job(cached_root.id)
    assert (reason.kind, reason.previous_job_id) == ("cached", root.id)
    assert reason.previous_call_hash == root.call_hash

    leaf_job = reader.child_jobs(root.id, size=1)[0]
    assert leaf_job.call_hash is not None
    argument = reader.job_detail(leaf_job.id).call.arguments[0].value
    assert leaf_job.id in {job.id for job in reader.value_detail(argument.hash).consumers}
    result = reader.job_detail(leaf_job.id).call.result
    produced = reader.value_detail(result.hash).producers
    assert leaf_job.id in {job.id for job in produced}
    assert all(job.arguments is not None for job in produced)  # ready to print

    [version] = reader.task_versions(root.task_hash)
    assert version.hash == root.task_hash and version.jobs >= 1 and "def main" in version.source
    assert reader.find_tasks("browse_test.main") == [root.task_hash]
    assert reader.find_tasks("main") == [root.task_hash]


def test_change_token_follows_jobs(db_uri: str) -> None:
    _run(db_uri, main(1), ["redun", "run", "wf.py", "main"])
    backend = RedunBackendDb(db_uri)
    backend.load()
    try:
        before = browse.change_token(backend.session)
        assert browse.change_token(backend.session) == before
        backend.session.rollback()
        _run(db_uri, main(2), ["redun", "run", "wf.py", "main"])
        backend.session.rollback()
        assert browse.change_token(backend.session) != before
    finally:
        backend.close()


def test_job_status_clause_agrees_with_job_status(backend: RedunBackendDb) -> None:
    """Every status, including a cached job whose result is an error (FAILED everywhere)."""
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    root_task, ok_task, bad_task = make_task("root"), make_task("ok"), make_task("bad")
    ok_call, _ = record_call(backend, ok_task, [1], 2)
    bad_call, _ = record_call(backend, bad_task, [1], ErrorValue(ValueError("x")))
    root_call, _ = record_call(backend, root_task, [], 1, children=(ok_call, bad_call))
    backend.record_execution("exec", ["redun", "run", "x"], "root")
    jobs = {
        "root": (root_task, None, False, root_call),
        "done": (ok_task, "root", False, ok_call),
        "cached": (ok_task, "root", True, ok_call),
        "failed": (bad_task, "root", False, bad_call),
        "cached-failed": (bad_task, "root", True, bad_call),
        "running": (ok_task, "root", False, None),
    }
    for job_id, (job_task, parent, cached, call) in jobs.items():
        backend.record_job_start(job_id, job_task, "exec", parent, cached, t0)
        if call:
            backend.record_job_end(job_id, call, t0 + timedelta(seconds=1))
    backend.flush()

    expected = {
        "root": "DONE",
        "done": "DONE",
        "cached": "CACHED",
        "failed": "FAILED",
        "cached-failed": "FAILED",
        "running": "RUNNING",
    }
    session = backend.session
    assert {job_id: session.get(Job, job_id).status for job_id in jobs} == expected
    query = CallGraphQuery(session)
    for status in ("RUNNING", "FAILED", "CACHED", "DONE"):
        matched = set(query.filter_job_statuses([status]).select("id", flat=True))
        assert matched == {job_id for job_id, s in expected.items() if s == status}, status
        rows = browse.execution_jobs(session, "exec", status=status)
        assert {row.id for row in rows} == matched
        assert {row.status for row in rows} <= {status}
    assert browse.job_status_counts(session, "exec") == {
        "bad": {"FAILED": 2},
        "ok": {"CACHED": 1, "DONE": 1, "RUNNING": 1},
        "root": {"DONE": 1},
    }


def test_execution_statuses_agree_everywhere(backend: RedunBackendDb) -> None:
    """An execution's status is its root job's, whoever asks (rows, filters, pages)."""
    from redun.backends.db import Execution
    from redun.backends.db.status import EXECUTION_STATUSES, STALE_AFTER

    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    ok_task, bad_task = make_task("ok"), make_task("bad")
    ok_call, _ = record_call(backend, ok_task, [1], 2)
    bad_call, _ = record_call(backend, bad_task, [1], ErrorValue(ValueError("x")))
    roots = {
        "done": (ok_task, False, ok_call),
        "cached": (ok_task, True, ok_call),
        "failed": (bad_task, False, bad_call),
        "cached-failed": (bad_task, True, bad_call),
        "running": (ok_task, False, None),
        "live": (ok_task, False, None),
        "stale": (ok_task, False, None),
        "busy-starting": (ok_task, False, None),
        "busy-ending": (ok_task, False, None),
    }
    for minute, (exec_id, (root_task, cached, call)) in enumerate(roots.items()):
        backend.record_execution(exec_id, ["redun", "run", exec_id], f"{exec_id}-root")
        start = t0 + timedelta(minutes=minute)
        backend.record_job_start(f"{exec_id}-root", root_task, exec_id, None, cached, start)
        if call:
            backend.record_job_end(f"{exec_id}-root", call, start + timedelta(seconds=1))
    # Heartbeats: "running" has none (as redun 0.44.1 leaves it), "live" a fresh one, and
    # "stale" one older than STALE_AFTER: its scheduler died without a word.
    now = datetime.now(timezone.utc)
    backend.record_updated_time("live", now - timedelta(seconds=5))
    backend.record_updated_time("stale", now - STALE_AFTER - timedelta(seconds=5))
    # A stale heartbeat but a job that just started or ended: a busy run of redun 0.44.1
    # (which refreshes the heartbeat only when idle) is alive.
    for exec_id in ("busy-starting", "busy-ending"):
        backend.record_updated_time(exec_id, now - STALE_AFTER - timedelta(seconds=5))
    backend.record_job_start("child-1", ok_task, "busy-starting", "busy-starting-root", False, now)
    backend.record_job_start("child-2", ok_task, "busy-ending", "busy-ending-root", False, t0)
    backend.record_job_end("child-2", ok_call, now - timedelta(seconds=5))
    backend.flush()
    expected = {
        "done": "DONE",
        "cached": "DONE",
        "failed": "FAILED",
        "cached-failed": "FAILED",
        "running": "RUNNING",
        "live": "RUNNING",
        "stale": "STOPPED",
        "busy-starting": "RUNNING",
        "busy-ending": "RUNNING",
    }
    session = backend.session
    assert {i: session.get(Execution, i).status for i in roots} == expected
    assert {row.id: row.status for row in browse.list_executions(session)} == expected
    assert {i: browse.get_execution(session, i).status for i in roots} == expected
    query = CallGraphQuery(session)
    for status in EXECUTION_STATUSES:
        wanted = {i for i, s in expected.items() if s == status}
        assert set(query.filter_execution_statuses([status]).select("id", flat=True)) == wanted
        assert {row.id for row in browse.list_executions(session, statuses=[status])} == wanted
    with pytest.raises(QueryError, match="Unknown execution status 'CACHED'"):
        query.filter_execution_statuses(["CACHED"])


def test_jobs_of_a_dead_execution_are_stopped_everywhere(backend: RedunBackendDb) -> None:
    """A job without an end time is STOPPED once its execution shows no sign of life, and
    RUNNING while it lives (fresh heartbeat, a busy run, or no heartbeat at all)."""
    from redun.backends.db import records
    from redun.backends.db.status import JOB_STATUSES, STALE_AFTER

    now = datetime.now(timezone.utc)
    old = now - STALE_AFTER - timedelta(minutes=5)
    ok_task = make_task("ok")
    ok_call, _ = record_call(backend, ok_task, [1], 2)
    heartbeats = {"dead": old, "live": now - timedelta(seconds=5), "busy": old, "legacy": None}
    for exec_id, heartbeat in heartbeats.items():
        backend.record_execution(exec_id, ["redun", "run", exec_id], f"{exec_id}-root")
        backend.record_job_start(f"{exec_id}-root", ok_task, exec_id, None, False, old)
        backend.record_job_start(f"{exec_id}-open", ok_task, exec_id, f"{exec_id}-root", False, old)
        backend.record_job_start(f"{exec_id}-done", ok_task, exec_id, f"{exec_id}-root", False, old)
        backend.record_job_end(f"{exec_id}-done", ok_call, old + timedelta(seconds=1))
        if heartbeat is not None:
            backend.record_updated_time(exec_id, heartbeat)
    # A busy run whose heartbeat lags behind: a job of it just started.
    backend.record_job_start("busy-new", ok_task, "busy", "busy-root", False, now)
    backend.flush()
    expected = {
        "dead-root": "STOPPED",
        "dead-open": "STOPPED",
        "dead-done": "DONE",
        "live-root": "RUNNING",
        "live-open": "RUNNING",
        "live-done": "DONE",
        "busy-root": "RUNNING",
        "busy-open": "RUNNING",
        "busy-done": "DONE",
        "busy-new": "RUNNING",
        "legacy-root": "RUNNING",
        "legacy-open": "RUNNING",
        "legacy-done": "DONE",
    }
    session = backend.session
    jobs = {job_id: session.get(Job, job_id) for job_id in expected}
    asked: list[str] = []
    listen = (backend.engine, "before_cursor_execute")

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        asked.extend([statement] if "UNION" in statement.upper() else [])

    event.listen(*listen, count)
    try:
        assert {job_id: job.status for job_id, job in jobs.items()} == expected
    finally:
        event.remove(*listen, count)
    # Liveness is asked once per stale execution ("dead" and "busy"), not once per job,
    # and again after a rollback (a new snapshot of the repository).
    assert len(asked) == 2
    session.rollback()
    event.listen(*listen, count)
    try:
        assert {job_id: job.status for job_id, job in jobs.items()} == expected
    finally:
        event.remove(*listen, count)
    assert len(asked) == 4
    assert {row.id: row.status for row in browse.jobs_by_ids(session, list(expected))} == expected
    assert {job_id: browse.get_job(session, job_id).status for job_id in expected} == expected
    reader = backend.reader()
    for exec_id in heartbeats:
        mine = {
            j: s
            for j, s in expected.items()
            if j.startswith(f"{exec_id}-") or j == "busy-new" and exec_id == "busy"
        }
        detail = reader.execution_detail(exec_id)
        assert {job.id: job.status for job in detail.jobs} == mine, exec_id
        children = browse.child_jobs(session, f"{exec_id}-root")
        assert {job.id: job.status for job in children} == {
            j: s for j, s in mine.items() if j != f"{exec_id}-root"
        }
        counts: dict[str, int] = {}
        for status in mine.values():
            counts[status] = counts.get(status, 0) + 1
        assert browse.job_status_counts(session, exec_id) == {"ok": counts}, exec_id
        assert detail.status_counts == {"ok": counts}
        for status in JOB_STATUSES:
            rows = browse.execution_jobs(session, exec_id, status=status)
            assert {row.id for row in rows} == {j for j, s in mine.items() if s == status}
    query = CallGraphQuery(session).filter_types(["Job"])
    for status in JOB_STATUSES:
        matched = set(query.filter_job_statuses([status]).select("id", flat=True))
        assert matched == {j for j, s in expected.items() if s == status}, status
    with backend.engine.connect() as connection:
        exported = {
            record["id"]: record["status"]
            for record in records.get_records(connection, list(expected))
            if record["_type"] == "Job"
        }
    assert exported == expected
    assert browse.get_execution(session, "dead").status == "STOPPED"
    assert browse.get_execution(session, "busy").status == "RUNNING"
