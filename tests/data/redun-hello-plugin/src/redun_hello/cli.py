"""`redun hello NAME`: a command contributed by a plugin, using the CLI state."""

import os

import click
from redun.cli.state import CliState, pass_state


@click.command("hello")
@click.argument("name")
@pass_state
def hello(state: CliState, name: str) -> None:
    """Greet NAME and name the executors configured in this repo."""
    executors = sorted(state.config.get("executors", {}))
    click.echo(f"hello {name}; executors: {', '.join(executors) or 'none'}")


def _set_greeting(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        os.environ["REDUN_HELLO_GREETING"] = value


greeting_option = click.Option(
    ["--hello-greeting"],
    expose_value=False,
    callback=_set_greeting,
    help="Prefix for results of the inline executor (redun-hello-plugin).",
)
