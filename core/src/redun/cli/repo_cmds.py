"""``redun repo add|list|remove``: named repositories (``[repos.NAME]`` in redun.ini)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state

SECTION_PREFIX = "repos."


def _ini_path(state: CliState) -> Path:
    return state.config_dir / "redun.ini"


def _repos(state: CliState) -> dict[str, str]:
    repos = state.config.get("repos", {})
    return {name: section.get("config_dir", "") for name, section in repos.items()}


@click.group("repo")
def repo() -> None:
    """Manage named repositories used by push and pull."""


@repo.command("add")
@click.argument("name")
@click.argument("config_dir")
@pass_state
def add(state: CliState, name: str, config_dir: str) -> None:
    """Add repository NAME whose config directory is CONFIG_DIR."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise CliError(f"Invalid repo name '{name}': use letters, digits, '_' and '-'.")
    if name == "default" or name in _repos(state):
        raise CliError(f"Repo '{name}' already exists: pick another name or remove it first.")
    if "://" not in config_dir:
        path = Path(config_dir).absolute()
        if not (path / "redun.ini").exists():
            raise CliError(f"No redun config at {path}: run 'redun init -c {path}' first.")
        config_dir = str(path)
    ini = _ini_path(state)
    text = ini.read_text() if ini.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    ini.write_text(f"{text}\n[{SECTION_PREFIX}{name}]\nconfig_dir = {config_dir}\n")
    click.echo(f"Added repo '{name}': {config_dir}")


@repo.command("list")
@pass_state
def list_(state: CliState) -> None:
    """List repositories (``default`` is this one)."""
    click.echo("Repositories:")
    repos = {"default": str(state.config_dir), **_repos(state)}
    for name, config_dir in repos.items():
        click.echo(f"  {name}: {config_dir}")


@repo.command("remove")
@click.argument("name")
@pass_state
def remove(state: CliState, name: str) -> None:
    """Remove repository NAME from redun.ini (its database is left untouched)."""
    if name == "default":
        raise CliError("The default repo cannot be removed.")
    ini = _ini_path(state)
    lines = ini.read_text().splitlines(keepends=True) if ini.exists() else []
    header = re.compile(rf"^\s*\[\s*{re.escape(SECTION_PREFIX + name)}\s*\]\s*$")
    kept, inside, found = [], False, False
    for line in lines:
        if line.lstrip().startswith("["):
            inside = bool(header.match(line))
            found = found or inside
        if not inside:
            kept.append(line)
    if not found:
        raise CliError(f"Unknown repo '{name}': see 'redun repo list'.")
    ini.write_text("".join(kept).rstrip("\n") + "\n")
    click.echo(f"Removed repo '{name}'.")
