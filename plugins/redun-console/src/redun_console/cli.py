"""``redun console [ROUTE]``: open the console on any screen of the current repo."""

from __future__ import annotations

import click
from redun.cli.state import CliState, pass_state

from redun_console.app import DEFAULT_POLL_INTERVAL
from redun_console.routes import DEFAULT_ROUTE


@click.command("console")
@click.argument("route", required=False, default=DEFAULT_ROUTE)
@click.option(
    "--interval",
    type=float,
    default=DEFAULT_POLL_INTERVAL,
    show_default=True,
    help="Seconds between checks for new or finished jobs (0: no live updates).",
)
@pass_state
def console(state: CliState, route: str, interval: float) -> None:
    """Browse executions, jobs, values and tasks.

    ROUTE opens a screen directly: executions, 'executions?status:failed',
    executions/ID, executions/ID/jobs, jobs/ID, values/HASH, tasks/HASH or
    tasks/NAME, any id prefix, '-' (latest execution) or '~N'.
    """
    from redun_console.app import RedunConsole
    from redun_console.routes import RouteError

    backend = state.get_backend()
    try:
        app = RedunConsole(backend, route, poll_interval=interval)
    except RouteError as error:
        raise click.ClickException(str(error)) from None
    app.run()
