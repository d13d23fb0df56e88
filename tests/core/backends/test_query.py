"""CallGraphQuery filters, id shorthands and file lookup (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redun.backends.base import TagEntity
from redun.backends.db import Execution, Job, RedunBackendDb
from redun.backends.db.query import CallGraphQuery, FileMatch, QueryError, infer_id
from redun.file import File
from redun.tags import ANY_VALUE
from redun.tracebacks import ErrorValue

from tests.core.backends.helpers import make_task, record_call

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


@pytest.fixture
def graph(backend: RedunBackendDb, tmp_path: Path) -> dict:
    """exec-old: main -> ok (DONE), cached (CACHED); exec-new (running): boom (FAILED), pending."""
    main = make_task("main", namespace="wf")
    ok, boom = make_task("ok", namespace="wf"), make_task("boom", namespace="wf")
    data = tmp_path / "data.csv"
    data.write_text("a,b")
    file = File(str(data))
    ok_call, _ = record_call(backend, ok, [file], [file, 1])
    boom_call, _ = record_call(
        backend, boom, [7], ErrorValue(ValueError("x")), upstream={0: (ok_call,)}
    )
    main_call, _ = record_call(backend, main, [], 1, children=(ok_call,))

    def job(job_id, task, exec_id, parent, cached, start, call=None):
        backend.record_job_start(job_id, task, exec_id, parent, cached, T0 + timedelta(start))
        if call:
            backend.record_job_end(job_id, call, T0 + timedelta(start, 1))

    backend.record_execution("exec-old", ["redun", "run", "old"], "root-old")
    job("root-old", main, "exec-old", None, False, 0, main_call)
    job("job-ok", ok, "exec-old", "root-old", False, 0, ok_call)
    job("job-cached", ok, "exec-old", "root-old", True, 0, ok_call)
    backend.record_execution("exec-new", ["redun", "run", "new"], "root-new")
    job("root-new", main, "exec-new", None, False, 1)
    job("job-boom", boom, "exec-new", "root-new", False, 1, boom_call)
    job("job-pending", ok, "exec-new", "root-new", False, 1)
    backend.record_tags(TagEntity.Execution, "exec-new", [("env", "prod")])
    backend.record_tags(TagEntity.Job, "job-ok", [("env", "prod"), ("size", 3)])
    backend.flush()
    return {
        "file_hash": backend.type_registry.get_hash(file),
        "path": str(data),
        "ok": ok,
        "ok_call": ok_call,
    }


def ids(query: CallGraphQuery) -> set[str]:
    return set(query.select("id", flat=True))


def test_types_counts_and_order(backend: RedunBackendDb, graph: dict) -> None:
    query = CallGraphQuery(backend.session)
    counts = dict(query.count())
    assert counts["Execution"] == 2 and counts["Job"] == 6 and counts["Task"] == 3
    executions = list(query.filter_types(["Execution"]).order_by("time").all())
    assert [e.id for e in executions] == ["exec-new", "exec-old"]
    assert [e.status for e in executions] == ["RUNNING", "DONE"]
    with pytest.raises(QueryError, match="Unknown record type"):
        query.filter_types(["Nope"])


def test_status_filters(backend: RedunBackendDb, graph: dict) -> None:
    query = CallGraphQuery(backend.session)
    assert ids(query.filter_job_statuses(["FAILED"])) == {"job-boom"}
    assert ids(query.filter_job_statuses(["CACHED"])) == {"job-cached"}
    assert ids(query.filter_job_statuses(["RUNNING"])) == {"root-new", "job-pending"}
    assert ids(query.filter_job_statuses(["DONE"])) == {"root-old", "job-ok"}
    assert ids(query.filter_execution_statuses(["DONE"])) == {"exec-old"}
    assert ids(query.filter_execution_statuses(["RUNNING"])) == {"exec-new"}
    with pytest.raises(QueryError, match="Unknown job status 'LOST'"):
        query.filter_job_statuses(["LOST"])


def test_task_execution_and_value_filters(backend: RedunBackendDb, graph: dict) -> None:
    query = CallGraphQuery(backend.session)
    assert ids(query.filter_task_names(["wf.ok"]).filter_types(["Job"])) == {
        "job-ok",
        "job-cached",
        "job-pending",
    }
    assert ids(query.filter_task_names(["ok"]).filter_types(["Task"])) == {graph["ok"].hash}
    assert ids(query.filter_task_hashes([graph["ok"].hash]).filter_types(["Job"])) == {
        "job-ok",
        "job-cached",
        "job-pending",
    }
    in_new = query.filter_execution_ids(["exec-new"])
    assert ids(in_new.filter_types(["Job"])) == {"root-new", "job-boom", "job-pending"}
    assert ids(in_new.filter_types(["Task"])) == {
        make_task("main", namespace="wf").hash,
        make_task("boom", namespace="wf").hash,
        graph["ok"].hash,
    }
    # The File is an argument of job-ok and nested in its result.
    file_hash = graph["file_hash"]
    assert ids(query.filter_arguments([file_hash])) == {"job-ok", "job-cached"}
    assert ids(query.filter_results([file_hash])) == {"job-ok", "job-cached"}
    assert ids(query.filter_value_types(["redun.File"])) == {file_hash}
    assert ids(query.filter_file_paths(["*data.csv"])) == {file_hash}
    assert ids(query.filter_file_paths(["*nothing*"])) == set()
    assert file_hash in ids(query.filter_execution_ids(["exec-old"]).filter_types(["Value"]))


def test_tag_filters(backend: RedunBackendDb, graph: dict) -> None:
    query = CallGraphQuery(backend.session)
    assert ids(query.filter_tags([("env", "prod")])) == {"exec-new", "job-ok"}
    assert ids(query.filter_tags([("env", "prod"), ("size", 3)])) == {"job-ok"}
    assert ids(query.filter_tags([("size", ANY_VALUE)])) == {"job-ok"}
    by_exec = query.filter_execution_tags([("env", "prod")]).filter_types(["Job", "Execution"])
    assert ids(by_exec) == {"exec-new", "root-new", "job-boom", "job-pending"}


def test_results_paging_and_ids(backend: RedunBackendDb, graph: dict) -> None:
    session = backend.session
    query = CallGraphQuery(session).filter_types(["Execution", "Job"]).order_by("time")
    everything = [record.id for record in query.all()]
    assert len(everything) == 8
    paged = [r.id for page in range(3) for r in query.page(page, 3)]
    assert paged == everything
    assert [r.id for r in query.limit(3)] == everything[:3]
    assert query.first().id == "exec-new"
    with pytest.raises(QueryError, match="exactly one"):
        query.one()
    assert query.filter_ids(["job-ok"]).one().id == "job-ok"
    assert query.filter_ids(["none"]).one_or_none() is None
    assert list(query.filter_ids(["job-ok"]).select("id", "type")) == [("job-ok", "Job")]

    assert infer_id(session, "-").id == "exec-new"
    assert infer_id(session, "~2").id == "exec-old"
    with pytest.raises(QueryError, match="~1 is the latest"):
        infer_id(session, "~0")
    with pytest.raises(QueryError, match="too high"):
        infer_id(session, "~9")
    assert isinstance(infer_id(session, "job-pe"), Job)
    assert isinstance(infer_id(session, "exec-o"), Execution)
    assert infer_id(session, graph["ok_call"][:10]).call_hash == graph["ok_call"]
    assert infer_id(session, "wf_ok_%") is None
    match = infer_id(session, graph["path"])
    assert isinstance(match, FileMatch)
    assert (match.file.path, match.kind) == (graph["path"], "result")
    assert match.job.id in {"job-ok", "job-cached"}
