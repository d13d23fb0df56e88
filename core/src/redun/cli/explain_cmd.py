"""``redun explain EXEC_ID|JOB_ID``: why each job ran instead of coming from the cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state


def _tree(job: Any, depth: int = 0) -> Iterator[tuple[Any, int]]:
    stack = [(job, depth)]
    while stack:
        current, level = stack.pop()
        yield current, level
        stack.extend((child, level + 1) for child in reversed(current.child_jobs))


def _target_jobs(session: Any, record_id: str) -> tuple[Any, list[tuple[Any, int]]]:
    """(execution or None, [(job, depth)]) for an execution or job id."""
    from redun.backends.db.models import Execution, Job
    from redun.backends.db.query import CallGraphQuery
    from redun.cli.log_cmd import find_record

    query = CallGraphQuery(session)
    try:
        records = find_record(session, query.filter_types({"Execution", "Job"}), record_id)
    except CliError:
        # Not an execution or job: say what the id names instead (or why it names nothing).
        records = find_record(session, query, record_id)
    record = records[0]
    if isinstance(record, Execution):
        return record, list(_tree(record.job)) if record.job is not None else []
    if isinstance(record, Job):
        return None, [(record, 0)]
    kind = type(record).__name__.replace("FileMatch", "File")
    raise CliError(
        f"'{record_id}' is a {kind}: redun explain takes an execution or job id "
        "(see 'redun log' and 'redun log --job')."
    )


@click.command("explain")
@click.argument("record_id", metavar="EXEC_ID|JOB_ID")
@click.option(
    "--format", "format_", type=click.Choice(["text", "json"]), default="text", help="Output."
)
@pass_state
def explain(state: CliState, record_id: str, format_: str) -> None:
    """Say why jobs ran: new task code, changed arguments or Files, invalid results.

    Each job is compared with what the repository held when it started. For an
    execution every job is listed (cached ones need no reason); for a job, its
    reason alone. EXEC_ID may also be '-' (latest) or '~N'.
    """
    from redun.backends.db.explain import explain_job
    from redun.cli.record_format import exec_line, job_line

    session = state.get_backend().session
    execution, jobs = _target_jobs(session, record_id)
    if format_ == "json":
        for job, _ in jobs:
            reason = explain_job(session, job.id)
            row = {"job_id": job.id, "status": job.status, **reason.to_json()}
            click.echo(json.dumps(row, sort_keys=True))
        return
    if execution is not None:
        click.echo(exec_line(execution))
    for job, depth in jobs:
        pad = "  " * depth
        click.echo(pad + job_line(job))
        if execution is None or not job.cached:
            click.echo(f"{pad}  Why: {explain_job(session, job.id).message()}")
