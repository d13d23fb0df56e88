"""``redun k8s``: the Kubernetes Jobs of a redun.ini executor, like ``redun aws`` for Batch.

``list-jobs`` shows them with their status, ``logs`` prints their pods'
output and ``kill-jobs`` deletes them (their pods go too). Jobs are found by
the labels the executor puts on them, in the executor's namespace.
"""

from __future__ import annotations

from typing import Any

import click
from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state


def _executor(state: CliState, name: str | None) -> Any:
    """The k8s executor `name` of redun.ini (built as `redun run` builds it), or the only one."""
    from redun.scheduler import Scheduler

    sections = state.config.get("executors") or {}
    k8s_names = sorted(key for key, section in sections.items() if section.get("type") == "k8s")
    if name is None:
        if len(k8s_names) != 1:
            found = ", ".join(k8s_names) or "none"
            raise CliError(
                f"Choose the k8s executor with --executor (k8s executors in redun.ini: {found})"
            )
        name = k8s_names[0]
    if name not in k8s_names:
        raise CliError(f"No [executors.{name}] with type = k8s in redun.ini")
    return Scheduler(config=state.config).executors[name]


def _selector(executor: Any, execution: str | None) -> str:
    from redun_k8s import names
    from redun_k8s.executor import K8S_EXECUTION_ID, K8S_EXECUTOR_NAME

    selector = f"{K8S_EXECUTOR_NAME}={names.label_value(executor.name)}"
    if execution:
        selector += f",{K8S_EXECUTION_ID}={names.label_value(execution)}"
    return selector


def _matching(executor: Any, execution: str | None, job: str | None) -> list[dict[str, Any]]:
    from redun_k8s.executor import K8S_JOB_ID

    jobs = executor._list(_selector(executor, execution))
    if job:
        jobs = [
            j
            for j in jobs
            if j["metadata"]["name"] == job
            or (j["metadata"].get("labels") or {}).get(K8S_JOB_ID, "").startswith(job)
        ]
    return sorted(jobs, key=lambda j: j["metadata"].get("creationTimestamp") or "")


executor_option = click.option("--executor", "executor_name", help="k8s executor of redun.ini.")
execution_option = click.option("--execution", help="Only Jobs of this redun execution id.")


@click.group("k8s")
def k8s() -> None:
    """Kubernetes Jobs run by the k8s executor."""


@k8s.command("list-jobs")
@executor_option
@execution_option
@pass_state
def list_jobs(state: CliState, executor_name: str | None, execution: str | None) -> None:
    """List the executor's Jobs with their status."""
    from redun_k8s.executor import K8S_EXECUTION_ID, K8S_JOB_ID, K8S_TASK_NAME, job_state

    executor = _executor(state, executor_name)
    jobs = _matching(executor, execution, None)
    if not jobs:
        click.echo(f"No jobs of executor {executor.name!r} in namespace {executor.namespace!r}")
        return
    click.echo(f"{'JOB':<50} {'STATUS':<10} {'PODS':<8} {'EXECUTION':<10} {'REDUN JOB':<10} TASK")
    for job in jobs:
        meta = job["metadata"]
        labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
        status = job.get("status") or {}
        spec = job.get("spec") or {}
        done = f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}"
        click.echo(
            f"{meta['name']:<50} {job_state(job):<10} {done:<8} "
            f"{labels.get(K8S_EXECUTION_ID, '')[:8]:<10} {labels.get(K8S_JOB_ID, '')[:8]:<10} "
            f"{annotations.get(K8S_TASK_NAME, '')}"
        )


@k8s.command("logs")
@click.argument("job")
@executor_option
@click.option("--tail", type=int, default=None, help="Only the last N lines of each pod.")
@pass_state
def logs(state: CliState, job: str, executor_name: str | None, tail: int | None) -> None:
    """Print the logs of JOB's pods (JOB: a Job name or a redun job id prefix)."""
    executor = _executor(state, executor_name)
    jobs = _matching(executor, None, job)
    if not jobs:
        raise CliError(
            f"No job {job!r} of executor {executor.name!r} in namespace {executor.namespace!r}"
        )
    for found in jobs:
        for pod in executor.pods(found["metadata"]["name"]):
            phase = (pod.get("status") or {}).get("phase", "")
            click.echo(f"==> pod {pod['metadata']['name']} ({phase}) <==")
            click.echo(executor.pod_log(pod["metadata"]["name"], tail), nl=False)


@k8s.command("kill-jobs")
@click.argument("jobs", nargs=-1)
@executor_option
@execution_option
@click.option("--all", "all_jobs", is_flag=True, help="Every Job of the executor.")
@pass_state
def kill_jobs(
    state: CliState,
    jobs: tuple[str, ...],
    executor_name: str | None,
    execution: str | None,
    all_jobs: bool,
) -> None:
    """Delete Jobs (their pods too): by name or redun job id, --execution ID, or --all."""
    if not (jobs or execution or all_jobs):
        raise CliError("Name the jobs to delete, or give --execution ID or --all")
    executor = _executor(state, executor_name)
    if jobs:
        found = [j for name in jobs for j in _matching(executor, execution, name)]
    else:
        found = _matching(executor, execution, None)
    job_names = sorted({j["metadata"]["name"] for j in found})
    if not job_names:
        click.echo("No matching jobs")
        return
    executor.delete_jobs(job_names)
    for name in job_names:
        click.echo(f"Deleted {name}")
