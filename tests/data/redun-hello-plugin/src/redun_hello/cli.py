"""`redun hello NAME`: a command contributed by a plugin, using the CLI state."""

import click
from redun.cli.state import CliState, pass_state


@click.command("hello")
@click.argument("name")
@pass_state
def hello(state: CliState, name: str) -> None:
    """Greet NAME and name the executors configured in this repo."""
    executors = sorted(state.config.get("executors", {}))
    click.echo(f"hello {name}; executors: {', '.join(executors) or 'none'}")
