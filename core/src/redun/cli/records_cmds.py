"""``redun export|import|push|pull``: move call-graph records between repositories."""

from __future__ import annotations

import sys
from typing import IO, Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state


def _open(path: str, mode: str) -> IO[str]:
    if path == "-":
        return sys.stdout if "w" in mode else sys.stdin
    try:
        return open(path, mode, encoding="utf8")
    except OSError as error:
        raise CliError(f"Cannot open '{path}': {error.strerror}.") from None


@click.command("export")
@click.option("-f", "--file", "path", default="-", metavar="FILE", help="Output (- = stdout).")
@click.argument("ids", nargs=-1)
@pass_state
def export(state: CliState, path: str, ids: tuple[str, ...]) -> None:
    """Export the records of IDS (default: every execution) as JSON lines."""
    from redun.backends.db.sync import export_records

    backend = state.get_backend()
    out = _open(path, "w")
    try:
        count = export_records(backend, ids, out)
    finally:
        if out is not sys.stdout:
            out.close()
    if path != "-":
        click.echo(f"Exported {count} record(s) to {path}.")


@click.command("import")
@click.option("-f", "--file", "path", default="-", metavar="FILE", help="Input (- = stdin).")
@pass_state
def import_(state: CliState, path: str) -> None:
    """Import JSON-lines records (from `redun export`); records present are skipped."""
    from redun.backends.db.sync import read_records

    backend = state.get_backend()
    infile = _open(path, "r")
    try:
        count = backend.put_records(read_records(infile))
    finally:
        if infile is not sys.stdin:
            infile.close()
    click.echo(f"Imported {count} new record(s).")


def _repo_backends(state: CliState, repo: str) -> tuple[Any, Any]:
    if repo == "default":
        raise CliError("Give another repo than 'default': see 'redun repo list'.")
    local = state.get_backend()
    other = state.get_backend(repo=repo, migrate=True)
    if local.db_uri == other.db_uri:
        raise CliError(f"Repo '{repo}' is the same database as the default repo ({local.db_uri}).")
    return local, other


@click.command("push")
@click.argument("repo")
@click.argument("ids", nargs=-1)
@pass_state
def push(state: CliState, repo: str, ids: tuple[str, ...]) -> None:
    """Copy records of IDS (default: every execution) to REPO."""
    from redun.backends.db.sync import sync_records

    local, other = _repo_backends(state, repo)
    count = sync_records(local, other, ids)
    if count:
        click.echo(f"Pushed {count} record(s) to repo '{repo}'.")
    else:
        click.echo(f"Repo '{repo}' is up to date.")


@click.command("pull")
@click.argument("repo")
@click.argument("ids", nargs=-1)
@pass_state
def pull(state: CliState, repo: str, ids: tuple[str, ...]) -> None:
    """Copy records of IDS (default: every execution) from REPO."""
    from redun.backends.db.sync import sync_records

    local, other = _repo_backends(state, repo)
    count = sync_records(other, local, ids)
    if count:
        click.echo(f"Pulled {count} new record(s) from repo '{repo}'.")
    else:
        click.echo(f"Repo '{repo}' is up to date.")
