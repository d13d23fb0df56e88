"""``redun launch``: run a whole command (usually ``redun run ...``) on an executor.

Typical use is a head node: ``redun launch --executor docker redun run wf.py main``
starts the scheduler itself in a container and returns. With ``--wait`` the
command runs as a ``redun.script_task`` through a local scheduler, which waits
for it and prints its output.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def _code_prefix(executor: Any) -> str:
    """Shell that unpacks the workflow's code package before the command runs."""
    from redun.executors import scratch
    from redun.executors.code_packaging import package_code

    code_file = package_code(executor.scratch_root(), executor.code_config)
    if code_file is None:
        raise CliError(f"--code-package: executor {executor.name!r} has code_package = false")
    if scratch.is_url(code_file):
        return f"redun fs cp {shlex.quote(code_file)} - | tar xzf - && "
    return f"tar xzf {shlex.quote(code_file)} && "


@click.command("launch", context_settings={"ignore_unknown_options": True})
@click.option("--executor", "executor_name", required=True, help="Executor (from redun.ini).")
@click.option("--code-package", is_flag=True, help="Ship and unpack the workflow's code first.")
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE", help="Task option.")
@click.option("--wait", is_flag=True, help="Wait for the command and print its output.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_state
def launch(
    state: CliState,
    executor_name: str,
    code_package: bool,
    options: tuple[str, ...],
    wait: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND (e.g. `redun run wf.py main`) on an executor."""
    from redun.executors.launch import launch_script
    from redun.executors.remote import RemoteExecutor
    from redun.scheduler import Scheduler
    from redun.scripting import script_task

    scheduler = Scheduler(config=state.config)
    executor = scheduler.executors.get(executor_name)
    if executor is None:
        known = ", ".join(sorted(scheduler.executors))
        raise CliError(f"Unknown executor {executor_name!r} (configured: {known})")
    script = shlex.join(command)
    if code_package:
        if not isinstance(executor, RemoteExecutor):
            raise CliError(f"--code-package needs a remote executor; {executor_name!r} is local")
        script = _code_prefix(executor) + script
    task_options = _parse_options(options)
    task = script_task.options(executor=executor_name, **task_options)

    if wait:
        result = scheduler.run(task(script))
        output = result[1] if isinstance(result, list) and len(result) == 2 else result
        text = output.decode("utf8", "replace") if isinstance(output, bytes) else str(output)
        click.echo(text, nl=not text.endswith("\n"))
        return

    if not isinstance(executor, RemoteExecutor):
        raise CliError(
            f"Executor {executor_name!r} runs jobs in this process, so a launched command "
            "would die with it; use --wait or a remote executor (e.g. type = docker)"
        )
    remote_id = launch_script(state.config, script, executor=executor, task_options=task_options)
    click.echo(f"Launched on {executor_name}: {remote_id}")
