"""``redun log [ID] [filters]``: query the call graph, one record per line or one in detail."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

TYPE_FLAGS = {
    "exec_": "Execution",
    "job": "Job",
    "call_node": "CallNode",
    "task": "Task",
    "value": "Value",
}
AMBIGUOUS_SHOWN = 5


def _split_commas(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _parse_tags(values: tuple[str, ...], option: str) -> list[tuple[str, Any]]:
    from redun.tags import parse_tag_key_value

    tags = []
    for value in values:
        try:
            tags.append(parse_tag_key_value(value, value_required=False))
        except ValueError as error:
            raise CliError(f"Bad {option} filter: {error}") from None
    return tags


def _like_prefix(column: Any, prefix: str) -> Any:
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return column.like(pattern, escape="\\")


def _full_ids(session: Any, column: Any, prefixes: Iterable[str], option: str) -> list[str]:
    """Full ids (hashes) for ids or unique prefixes, as `redun log` prints them shortened."""
    from sqlalchemy import select

    ids = []
    for prefix in prefixes:
        found = list(session.execute(select(column).where(_like_prefix(column, prefix)).limit(2)))
        if not found:
            raise CliError(f"{option} {prefix}: nothing recorded has this id (or id prefix).")
        if len(found) > 1:
            raise CliError(f"{option} {prefix}: id prefix is ambiguous; give more characters.")
        ids.append(found[0][0])
    return ids


def _resolve_execution(session: Any, exec_id: str) -> str:
    """An execution id from a full id, id prefix, ``-`` or ``~N``."""
    from redun.backends.db.models import Execution
    from redun.backends.db.query import QueryError, infer_specialty_id

    try:
        record = infer_specialty_id(session, exec_id, include_files=False)
    except QueryError as error:
        raise CliError(str(error)) from None
    if record is not None:
        return record.id
    return _full_ids(session, Execution.id, [exec_id], "--exec-id")[0]


def build_query(session: Any, options: dict[str, Any], has_id: bool) -> tuple[Any, bool]:
    """The CallGraphQuery for the filters, and whether it fell back to recent executions.

    Filters that only make sense for some record types (``--job-status`` for
    jobs, ``--value-type`` for values, ...) select those types when no type
    flag is given, so ``redun log --job-status FAILED`` lists failed jobs.
    """
    from redun.backends.db.models import Task, Value
    from redun.backends.db.query import CallGraphQuery, QueryError

    query = CallGraphQuery(session).order_by("time")
    types: set[str] = set()
    try:
        if options["exec_status"]:
            types.add("Execution")
            query = query.filter_execution_statuses(_split_commas(options["exec_status"]))
        if options["job_status"]:
            types.add("Job")
            query = query.filter_job_statuses(_split_commas(options["job_status"]))
        if options["value_type"]:
            types.add("Value")
            query = query.filter_value_types(options["value_type"])
        if options["file_path"]:
            types.add("Value")
            query = query.filter_file_paths(options["file_path"])
        for flag, type_name in TYPE_FLAGS.items():
            if options[flag]:
                types.add(type_name)
        if options["all"]:
            types.update(CallGraphQuery.MODEL_NAMES)
        if options["file"]:
            types = {"Value"}
            query = query.filter_value_types(["redun.File"])
        job_filters = ("task_name", "task_hash", "result", "arg")
        if not types and any(options[name] for name in job_filters):
            types = {"Job"}
        recent = not types and not has_id
        if recent:
            types = {"Execution"}
        if types:
            query = query.filter_types(types)
        if options["exec_id"]:
            ids = [_resolve_execution(session, i) for i in _split_commas(options["exec_id"])]
            query = query.filter_execution_ids(ids)
        if options["task_name"]:
            query = query.filter_task_names(options["task_name"])
        if options["task_hash"]:
            query = query.filter_task_hashes(
                _full_ids(session, Task.hash, options["task_hash"], "--task-hash")
            )
        if options["result"]:
            query = query.filter_results(
                _full_ids(session, Value.value_hash, options["result"], "--result")
            )
        if options["arg"]:
            query = query.filter_arguments(
                _full_ids(session, Value.value_hash, options["arg"], "--arg")
            )
        if options["tag"]:
            query = query.filter_tags(_parse_tags(options["tag"], "--tag"))
        if options["exec_tag"]:
            query = query.filter_execution_tags(_parse_tags(options["exec_tag"], "--exec-tag"))
    except QueryError as error:
        raise CliError(str(error)) from None
    return query, recent


def _record_id(record: Any) -> str:
    from redun.backends.db.query import MODEL_PKS

    return getattr(record, MODEL_PKS[type(record)].key)


def find_record(session: Any, query: Any, record_id: str) -> list[Any]:
    """The records an id names: one record, or every version of a task name.

    A task is also stored as a value with the same hash; the task is shown.
    Raises a one-line error for unknown ids and ambiguous prefixes.
    """
    from redun.backends.db.models import Task, Value
    from redun.backends.db.query import QueryError, infer_specialty_id

    try:
        special = infer_specialty_id(session, record_id)
    except QueryError as error:
        raise CliError(str(error)) from None
    if special is not None:
        return [special]
    if record_id == "-":
        raise CliError("No executions recorded yet: run a workflow with 'redun run' first.")
    matches = list(query.like_id(record_id).limit(50))
    task_ids = {record.hash for record in matches if isinstance(record, Task)}
    matches = [m for m in matches if not (isinstance(m, Value) and m.value_hash in task_ids)]
    if not matches:
        raise CliError(
            f"No record matches '{record_id}': give an id or id prefix (see 'redun log --all'), "
            "'-' or '~N' for recent executions, or a file path."
        )
    if all(isinstance(m, Task) and m.name == record_id for m in matches):
        return matches
    if len({_record_id(m) for m in matches}) > 1:
        shown = ", ".join(
            f"{type(m).__name__} {_record_id(m)[:12]}" for m in matches[:AMBIGUOUS_SHOWN]
        )
        more = "" if len(matches) <= AMBIGUOUS_SHOWN else f" and {len(matches) - 5} more"
        raise CliError(
            f"Id prefix '{record_id}' is ambiguous ({shown}{more}); give more characters."
        )
    return matches[:1]


def _json_lines(backend: Any, records: Iterable[Any]) -> Iterator[str]:
    """One JSON object per record, in the export format (files as their File value)."""
    from redun.backends.db.models import File
    from redun.backends.db.query import FileMatch

    ids = []
    for record in records:
        if isinstance(record, FileMatch):
            record = record.file
        ids.append(record.value_hash if isinstance(record, File) else _record_id(record))
    for serialized in backend.get_records(ids):
        yield json.dumps(serialized, sort_keys=True)


def _text_detail(session: Any, record: Any) -> Iterator[str]:
    from redun.backends.db.query import FileMatch
    from redun.cli.record_format import record_detail

    if isinstance(record, FileMatch):
        yield from record_detail(session, record.file)
    else:
        yield from record_detail(session, record)


def _file_lines(session: Any, query: Any) -> Iterator[str]:
    from sqlalchemy import select

    from redun.backends.db.models import File
    from redun.cli.record_format import file_line

    values = query.build().get("Value")
    if values is None:
        return
    value_hashes = values.order_by(None).with_only_columns(values.selected_columns.value_hash)
    stmt = select(File).where(File.value_hash.in_(value_hashes)).order_by(File.path)
    for file in session.execute(stmt).scalars():
        yield file_line(file)


def _output(lines: Iterable[str], no_pager: bool) -> None:
    """Page long output on a terminal (as redun does), print it plainly otherwise."""
    if not no_pager and sys.stdout.isatty():
        click.echo_via_pager(line + "\n" for line in lines)
        return
    for line in lines:
        click.echo(line)


@click.command("log", context_settings={"show_default": True})
@click.argument("record_id", required=False, metavar="[ID]")
@click.option("--all", "all", is_flag=True, help="Show records of every type.")
@click.option("--exec", "exec_", is_flag=True, help="Show executions.")
@click.option("--job", is_flag=True, help="Show jobs.")
@click.option("--call-node", is_flag=True, help="Show call nodes.")
@click.option("--task", is_flag=True, help="Show tasks.")
@click.option("--value", is_flag=True, help="Show values.")
@click.option("--file", is_flag=True, help="Show files (values of type redun.File).")
@click.option(
    "--exec-status", metavar="S,...", help="Executions with status RUNNING, STOPPED, FAILED, DONE."
)
@click.option(
    "--job-status", metavar="S,...", help="Jobs with status RUNNING, FAILED, CACHED, DONE."
)
@click.option("--task-name", multiple=True, help="Jobs and tasks of this task (repeatable).")
@click.option("--task-hash", multiple=True, help="Jobs and tasks with this task hash.")
@click.option("--value-type", multiple=True, help="Values of this type, e.g. builtins.int.")
@click.option("--file-path", multiple=True, help="Files with this path ('*' is a wildcard).")
@click.option("--exec-id", metavar="ID,...", help="Records of these executions (also - and ~N).")
@click.option("--result", multiple=True, metavar="HASH", help="Jobs that returned this value.")
@click.option("--arg", multiple=True, metavar="HASH", help="Jobs that received this value.")
@click.option("-t", "--tag", multiple=True, metavar="K[=V]", help="Records with this tag.")
@click.option("--exec-tag", multiple=True, metavar="K[=V]", help="Records of tagged executions.")
@click.option("--count", is_flag=True, help="Count the matching records per type.")
@click.option(
    "--format", "format_", type=click.Choice(["text", "json"]), default="text", help="Output."
)
@click.option("--detail", is_flag=True, help="Show each record in full.")
@click.option("--no-pager", is_flag=True, help="Never page the output through $PAGER.")
@pass_state
def log(state: CliState, record_id: str | None, **options: Any) -> None:
    """Show recorded executions, jobs, call nodes, tasks, values and files.

    Without ID: recent executions, or the records the flags select, one per
    line. With ID (an id or unique prefix, '-' for the latest execution, '~N'
    for the N-th latest, or a file path): that record in detail.
    """
    backend = state.get_backend()
    session = backend.session
    query, recent = build_query(session, options, has_id=record_id is not None)
    fmt = options["format_"]

    if record_id is not None:
        records = find_record(session, query, record_id)
        if fmt == "json":
            _output(_json_lines(backend, records), options["no_pager"])
        else:
            _output(
                (line for record in records for line in _text_detail(session, record)),
                options["no_pager"],
            )
        return
    _output(_listing(backend, query, recent, options), options["no_pager"])


def _eager(query: Any) -> Any:
    """The query with the relations that record lines print loaded in bulk."""
    from redun.cli.record_format import execution_load_options, job_load_options

    return replace(
        query,
        jobs=query.jobs.options(*job_load_options()),
        executions=query.executions.options(*execution_load_options()),
    )


def _listing(backend: Any, query: Any, recent: bool, options: dict[str, Any]) -> Iterator[str]:
    from redun.cli.record_format import record_detail, record_line

    session = backend.session
    if recent and options["format_"] == "text":
        yield "Recent executions:"
        yield ""
    if options["count"]:
        for record_type, count in query.count():
            yield f"{count:>8} {record_type}"
        return
    if options["format_"] == "json":
        yield from _json_lines(backend, query.all())
        return
    if options["file"]:
        yield from _file_lines(session, query)
        return
    for record in _eager(query).all():
        if options["detail"]:
            yield from record_detail(session, record)
        else:
            yield record_line(record)
