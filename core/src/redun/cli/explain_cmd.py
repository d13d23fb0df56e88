"""``redun explain EXEC_ID|JOB_ID``: why each job ran instead of coming from the cache."""

from __future__ import annotations

import json
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state


def _target_jobs(reader: Any, record_id: str) -> tuple[Any, list[tuple[Any, int]]]:
    """(execution row or None, [(job row, depth)]) for an execution or job id."""
    from redun.cli.log_cmd import find_records
    from redun.cli.record_format import job_tree

    try:
        (ref,) = find_records(reader, record_id, {"Execution", "Job"})
    except CliError:
        # Not an execution or job: say what the id names instead (or why it names nothing).
        ref = find_records(reader, record_id)[0]
    if ref.type == "Execution":
        detail = reader.execution_detail(ref.id)
        return detail.execution, list(job_tree(detail.jobs, detail.execution.job_id))
    if ref.type == "Job":
        return None, [(reader.job_detail(ref.id).job, 0)]
    raise CliError(
        f"'{record_id}' is a {ref.type}: redun explain takes an execution or job id "
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
    from redun.cli.record_format import exec_line, job_line

    reader = state.get_reader()
    execution, jobs = _target_jobs(reader, record_id)
    if format_ == "json":
        for job, _ in jobs:
            reason = reader.explain_job(job.id)
            row = {"job_id": job.id, "status": job.status, **reason.to_json()}
            click.echo(json.dumps(row, sort_keys=True))
        return
    if execution is not None:
        click.echo(exec_line(execution))
    for job, depth in jobs:
        pad = "  " * depth
        click.echo(pad + job_line(job))
        if execution is None or not job.cached:
            click.echo(f"{pad}  Why: {reader.explain_job(job.id).message()}")
