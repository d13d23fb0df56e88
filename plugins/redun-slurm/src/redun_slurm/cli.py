"""``redun slurm list-jobs | logs | cancel``: the SLURM jobs of this repository's executors.

Like ``redun aws``, the commands cover every ``type = slurm`` executor in
redun.ini (``--executor`` picks one). Jobs SLURM still remembers come from
one ``squeue`` call, their redun labels from the job's comment; jobs it has
forgotten come from the call-graph database, where each finished job carries
the tags ``slurm_job`` and ``slurm_log``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

if TYPE_CHECKING:
    from redun_slurm.executor import SlurmExecutor

LIST_COLUMNS = ("SLURM_ID", "STATE", "TASK", "JOB", "EXECUTION", "EXECUTOR")


@dataclass
class Row:
    """One SLURM job as the commands show it."""

    slurm_id: str
    state: str
    task: str
    job_id: str
    execution_id: str
    executor: SlurmExecutor
    active: bool = False

    @property
    def log_file(self) -> str:
        return self.executor.log_file(self.slurm_id)


def _executors(state: CliState, name: str | None) -> list[SlurmExecutor]:
    """The slurm executors of redun.ini, their scratch resolved against the config dir."""
    from redun_slurm.executor import SlurmExecutor

    sections = state.config.get("executors", {}) or {}
    found = []
    for executor_name, section in sorted(sections.items()):
        if section.get("type") != "slurm" or (name and executor_name != name):
            continue
        config = dict(section)
        if config.get("scratch") and not os.path.isabs(config["scratch"]):
            # As the scheduler resolves it (RemoteExecutor), so the labels match.
            config["scratch"] = os.path.abspath(
                os.path.join(str(state.config_dir), config["scratch"])
            )
        found.append(SlurmExecutor(executor_name, config=config))
    if not found:
        where = f"[executors.{name}]" if name else "executor"
        raise CliError(f"No {where} with type = slurm in {state.config_dir}/redun.ini")
    return found


def _execution_id(state: CliState, record_id: str) -> str:
    """A full execution id from an id, a unique prefix, '-' (latest) or '~N'."""
    from redun.backends.db.reader import AmbiguousIdError, QueryError

    try:
        found = state.get_reader().find_one(record_id, types=["Execution"], files=False)
    except AmbiguousIdError:
        raise CliError(
            f"Execution id prefix '{record_id}' is ambiguous; give more characters."
        ) from None
    except QueryError as error:
        raise CliError(str(error)) from None
    if found is not None:
        return found.id
    if record_id == "-" or record_id.startswith("~"):
        raise CliError("No executions recorded yet: run a workflow with 'redun run' first.")
    raise CliError(f"No execution matches '{record_id}' (see 'redun log').")


def _live_rows(executors: list[SlurmExecutor]) -> list[Row]:
    """Jobs SLURM remembers (one squeue for all executors)."""
    from redun.executors.remote import LABEL_EXECUTION, LABEL_JOB_ID, LABEL_TASK

    jobs = executors[0].commands.squeue()
    rows = []
    for executor in executors:
        for job, labels in executor.slurm_jobs(jobs):
            rows.append(
                Row(
                    job.id,
                    job.state,
                    labels.get(LABEL_TASK, ""),
                    labels.get(LABEL_JOB_ID, ""),
                    labels.get(LABEL_EXECUTION, ""),
                    executor,
                    active=job.active,
                )
            )
    return rows


def _recorded_rows(state: CliState, executors: list[SlurmExecutor], execution_id: str) -> list[Row]:
    """Finished jobs of an execution, from their ``slurm_job``/``slurm_log`` tags."""
    from redun.backends.db.reader import RecordFilter
    from redun.executors.remote import RemoteState
    from redun.tags import ANY_VALUE

    from redun_slurm.executor import TAG_JOB, TAG_LOG

    wanted = RecordFilter(
        types=frozenset({"Job"}), execution_ids=(execution_id,), tags=((TAG_JOB, ANY_VALUE),)
    )
    tags: dict[str, dict[str, Any]] = {}
    for job in state.get_reader().search(wanted).rows():
        entry = tags.setdefault(job.id, {"task": job.task})
        entry.update((key, str(value)) for key, value in job.tags if key in (TAG_JOB, TAG_LOG))
    rows = []
    for job_id, entry in sorted(tags.items()):
        slurm_id = entry.get(TAG_JOB)
        if not slurm_id:
            continue
        log_dir = os.path.dirname(entry.get(TAG_LOG, ""))
        executor = next((e for e in executors if e.log_dir == log_dir), executors[0])
        status = executor.forgotten_status(slurm_id)
        state_name = "COMPLETED" if status.state == RemoteState.SUCCEEDED else "FAILED"
        rows.append(Row(slurm_id, state_name, entry["task"], job_id, execution_id, executor))
    return rows


def _rows(state: CliState, executor_name: str | None, execution: str | None) -> list[Row]:
    executors = _executors(state, executor_name)
    rows = _live_rows(executors)
    if execution is None:
        return rows
    execution_id = _execution_id(state, execution)
    rows = [row for row in rows if row.execution_id == execution_id]
    known = {row.slurm_id for row in rows}
    rows += [
        row for row in _recorded_rows(state, executors, execution_id) if row.slurm_id not in known
    ]
    return rows


def _states(raw: str | None) -> set[str] | None:
    return {part.strip().upper() for part in raw.split(",") if part.strip()} if raw else None


executor_option = click.option(
    "--executor", "executor_name", metavar="NAME", help="Only this [executors.NAME]."
)
execution_option = click.option(
    "--execution",
    "-x",
    metavar="EXEC_ID",
    help="Only jobs of this execution (id, prefix, '-' for the latest, '~N').",
)


@click.group("slurm")
def slurm() -> None:
    """SLURM jobs of this repository's `type = slurm` executors."""


@slurm.command("list-jobs")
@execution_option
@executor_option
@click.option(
    "--states", "-s", metavar="STATES", help="Comma-separated SLURM states (PENDING,RUNNING,...)."
)
@pass_state
def list_jobs(
    state: CliState, execution: str | None, executor_name: str | None, states: str | None
) -> None:
    """List the jobs SLURM knows (and, with -x, the execution's finished ones)."""
    wanted = _states(states)
    rows = [
        row for row in _rows(state, executor_name, execution) if not wanted or row.state in wanted
    ]
    table = [LIST_COLUMNS] + [
        (row.slurm_id, row.state, row.task, row.job_id[:8], row.execution_id[:8], row.executor.name)
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(LIST_COLUMNS))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


@slurm.command("logs")
@click.argument("slurm_ids", nargs=-1, metavar="[SLURM_ID]...")
@execution_option
@click.option("--job", "-j", "job_id", metavar="JOB_ID", help="The SLURM output of this redun job.")
@executor_option
@click.option("--tail", "-n", type=int, default=0, help="Only the last N lines of each.")
@pass_state
def logs(
    state: CliState,
    slurm_ids: tuple[str, ...],
    execution: str | None,
    job_id: str | None,
    executor_name: str | None,
    tail: int,
) -> None:
    """Print the SLURM output files of jobs (by SLURM id, redun job, or execution)."""
    if not (slurm_ids or execution or job_id):
        raise CliError("Say whose logs: SLURM job ids, --job JOB_ID or --execution EXEC_ID")
    executors = _executors(state, executor_name)
    files: list[tuple[str, str]] = []
    for slurm_id in slurm_ids:
        found = _output_files(executors, slurm_id)
        if not found:
            raise CliError(f"No output file of SLURM job {slurm_id} in the executors' scratch")
        files += found
    if execution or job_id:
        rows = _rows(state, executor_name, execution)
        if job_id:
            rows = _job_rows(state, executors, rows, job_id)
        files += [
            (f"SLURM job {row.slurm_id} ({row.task}, job {row.job_id[:8]})", row.log_file)
            for row in rows
        ]
    for title, path in files:
        click.echo(f"==> {title}: {path} <==")
        try:
            with open(path, errors="replace") as infile:
                lines = infile.read().splitlines()
        except FileNotFoundError:
            click.echo("(no output file yet)")
            continue
        for line in lines[-tail:] if tail > 0 else lines:
            click.echo(line)


def _output_files(executors: list[SlurmExecutor], slurm_id: str) -> list[tuple[str, str]]:
    """A job's output file, or every index's of an array given by its id alone."""
    for executor in executors:
        path = executor.log_file(slurm_id)
        if os.path.exists(path):
            return [(f"SLURM job {slurm_id}", path)]
        if "_" in slurm_id or not os.path.isdir(executor.log_dir):
            continue
        indexes = []
        for name in os.listdir(executor.log_dir):
            index = name.removeprefix(f"{slurm_id}_").removesuffix(".out")
            if name == f"{slurm_id}_{index}.out" and index.isdigit():
                indexes.append((int(index), name))
        if indexes:
            return [
                (f"SLURM job {name[:-4]}", os.path.join(executor.log_dir, name))
                for _, name in sorted(indexes)
            ]
    return []


def _job_rows(
    state: CliState, executors: list[SlurmExecutor], rows: list[Row], job_id: str
) -> list[Row]:
    """The rows of one redun job (id or prefix), searching its execution if needed."""
    reader = state.get_reader()
    matches = reader.ids_with_prefix("Job", job_id)
    if len(matches) > 1 and job_id not in matches:
        raise CliError(f"Job id prefix '{job_id}' is ambiguous; give more characters.")
    job = reader.job(job_id if job_id in matches else matches[0]) if matches else None
    if job is not None:
        full_id, execution_id = job.id, job.execution_id
        rows = rows + [
            row
            for row in _recorded_rows(state, executors, execution_id)
            if row.slurm_id not in {r.slurm_id for r in rows}
        ]
    else:
        full_id = job_id
    found = [row for row in rows if row.job_id.startswith(full_id)]
    if not found:
        raise CliError(f"No SLURM job is known for redun job '{job_id}'")
    return found


@slurm.command("cancel")
@execution_option
@click.option(
    "--all", "all_jobs", is_flag=True, help="Every queued or running job of the executors."
)
@executor_option
@pass_state
def cancel(
    state: CliState, execution: str | None, all_jobs: bool, executor_name: str | None
) -> None:
    """Cancel (scancel) the queued and running jobs of an execution, or --all of them."""
    if not (execution or all_jobs):
        raise CliError("Say which jobs: --execution EXEC_ID, or --all")
    rows = [row for row in _rows(state, executor_name, execution) if row.active]
    if not rows:
        click.echo("No queued or running SLURM jobs to cancel.")
        return
    by_executor: dict[str, list[Row]] = {}
    for row in rows:
        by_executor.setdefault(row.executor.name, []).append(row)
    for group in by_executor.values():
        group[0].executor.cancel([row.slurm_id for row in group])
    click.echo(f"Cancelled {len(rows)} SLURM job(s): {' '.join(row.slurm_id for row in rows)}")
