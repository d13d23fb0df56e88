"""``redun log [ID] [filters]``: query the call graph, one record per line or one in detail."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
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


def record_filter(options: dict[str, Any]) -> Any:
    """The read model's filter for `redun log`'s options (``--exec`` and friends)."""
    from redun.backends.db.reader import RecordFilter

    types = {type_name for flag, type_name in TYPE_FLAGS.items() if options.get(flag)}
    if options.get("file"):
        types.add("File")
    return RecordFilter(
        types=frozenset(types),
        all_types=bool(options.get("all")),
        execution_statuses=tuple(_split_commas(options.get("exec_status") or "")),
        job_statuses=tuple(_split_commas(options.get("job_status") or "")),
        task_names=tuple(options.get("task_name") or ()),
        task_hashes=tuple(options.get("task_hash") or ()),
        value_types=tuple(options.get("value_type") or ()),
        file_paths=tuple(options.get("file_path") or ()),
        execution_ids=tuple(_split_commas(options.get("exec_id") or "")),
        results=tuple(options.get("result") or ()),
        arguments=tuple(options.get("arg") or ()),
        tags=tuple(_parse_tags(options.get("tag") or (), "--tag")),
        execution_tags=tuple(_parse_tags(options.get("exec_tag") or (), "--exec-tag")),
    )


def search(reader: Any, options: dict[str, Any]) -> Any:
    from redun.backends.db.reader import QueryError

    try:
        return reader.search(record_filter(options))
    except QueryError as error:
        raise CliError(str(error)) from None


def find_records(reader: Any, record_id: str, types: Any = None) -> list[Any]:
    """The refs an id names: one record, or every version of a task name.

    Raises a one-line error for unknown ids and ambiguous prefixes.
    """
    from redun.backends.db.reader import QueryError

    try:
        found = reader.find(record_id, types)
    except QueryError as error:
        raise CliError(str(error)) from None
    if not found:
        if record_id == "-":
            raise CliError("No executions recorded yet: run a workflow with 'redun run' first.")
        raise CliError(
            f"No record matches '{record_id}': give an id or id prefix (see 'redun log --all'), "
            "'-' or '~N' for recent executions, or a file path."
        )
    if all(ref.type == "Task" and ref.name.rpartition(".")[2] == record_id for ref in found):
        return found
    if len(found) > 1:
        shown = ", ".join(f"{ref.type} {ref.id[:12]}" for ref in found[:AMBIGUOUS_SHOWN])
        more = "" if len(found) <= AMBIGUOUS_SHOWN else f" and {len(found) - AMBIGUOUS_SHOWN} more"
        raise CliError(
            f"Id prefix '{record_id}' is ambiguous ({shown}{more}); give more characters."
        )
    return found


def record_detail_of(reader: Any, ref: Any) -> Any:
    """The read model's detail of the record a ref names (a File shows as its value)."""
    if ref.type == "Execution":
        return reader.execution_detail(ref.id)
    if ref.type == "Job":
        return reader.job_detail(ref.id)
    if ref.type == "CallNode":
        return reader.call_node_detail(ref.id)
    if ref.type == "Task":
        return reader.task_detail(ref.id)
    return reader.value_detail(ref.id, limit=None)


def _json_lines(backend: Any, ids: Iterable[str]) -> Iterator[str]:
    """One JSON object per record, in the export format (files as their File value)."""
    for serialized in backend.get_records(list(ids)):
        yield json.dumps(serialized, sort_keys=True)


def _text_detail(reader: Any, ref: Any) -> Iterator[str]:
    from redun.cli.record_format import record_detail

    detail = record_detail_of(reader, ref)
    yield from record_detail(detail)
    if ref.type in ("Value", "File"):
        yield from _dataflow_lines(reader, ref.id, "value")
    elif ref.type == "CallNode" and not detail.call.failed:
        yield from _dataflow_lines(reader, detail.call.result.hash, "result")
    elif ref.type == "Job" and detail.call is not None and not detail.call.failed:
        # Under the job's call node, indented like it (as redun shows it). A failure
        # ends with its traceback instead.
        for line in _dataflow_lines(reader, detail.call.result.hash, "result"):
            yield f"  {line}" if line else ""


def _dataflow_lines(reader: Any, value_hash: str, name: str) -> Iterator[str]:
    """A value's upstream dataflow after its detail, as redun's `redun log` shows it."""
    row = reader.value(value_hash)
    if row is None:
        return
    yield ""
    yield "Upstream dataflow:"
    yield ""
    yield f"  {name} = {row.preview}"
    yield ""
    for line in reader.upstream_dataflow(value_hash, name):
        yield f"  {line}" if line else ""


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
    "--job-status", metavar="S,...", help="Jobs with status RUNNING, STOPPED, FAILED, CACHED, DONE."
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
    reader = state.get_reader()
    fmt = options["format_"]
    if record_id is not None:
        types = record_filter(options).types - {"File"} or None
        refs = find_records(reader, record_id, types)
        if fmt == "json":
            _output(_json_lines(backend, [ref.id for ref in refs]), options["no_pager"])
        else:
            _output(
                (line for ref in refs for line in _text_detail(reader, ref)), options["no_pager"]
            )
        return
    _output(_listing(backend, reader, search(reader, options), options), options["no_pager"])


def _listing(backend: Any, reader: Any, found: Any, options: dict[str, Any]) -> Iterator[str]:
    from redun.cli.record_format import record_detail, record_line

    if found.recent and options["format_"] == "text":
        yield "Recent executions:"
        yield ""
    if options["count"]:
        for record_type, count in found.count():
            yield f"{count:>8} {record_type}"
        return
    if options["format_"] == "json":
        yield from _json_lines(backend, [ref.id for ref in found.refs()])
        return
    if found.files_only:
        yield from (record_line(file) for file in found.files())
        return
    if options["detail"]:
        for ref in found.refs():
            yield from record_detail(record_detail_of(reader, ref))
        return
    for row in found.rows():
        yield record_line(row)
