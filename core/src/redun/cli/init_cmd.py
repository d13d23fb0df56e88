"""``redun init``: create a repository (config dir, redun.ini, database)."""

from __future__ import annotations

from pathlib import Path

import click

from redun.cli.state import CliState, pass_state
from redun.config import CONFIG_DIR_NAME, find_config_dir, init_config_dir, load_config


@click.command("init")
@click.argument("basedir", required=False, type=click.Path(file_okay=False))
@click.option("-c", "--config", "config_dir", metavar="DIR", help="Config directory to create.")
@pass_state
def init(state: CliState, basedir: str | None, config_dir: str | None) -> None:
    """Create a redun repository: BASEDIR/.redun, or the -c DIR given."""
    if config_dir or state.config_option:
        target = Path(config_dir or state.config_option or "").absolute()
    elif basedir:
        target = Path(basedir).absolute() / CONFIG_DIR_NAME
    else:
        target = find_config_dir(create=False) or Path.cwd() / CONFIG_DIR_NAME
    init_config_dir(target)
    config = load_config(target)
    from redun.backends.registry import open_backend

    backend = open_backend(config.get("backend") or {})
    backend.load(migrate=True)
    backend.close()
    click.echo(f"Initialized redun repository: {target}")
