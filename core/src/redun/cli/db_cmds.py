"""``redun db info|upgrade|downgrade|versions``: the database schema version."""

from __future__ import annotations

from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state


def _unchecked_backend(state: CliState) -> Any:
    """A connected backend whose schema may be missing, old or new (not validated)."""
    from redun.backends.db import RedunBackendDb

    backend = RedunBackendDb(config=state.repo_config().get("backend"))
    backend.connect()
    return backend


@click.group("db")
def db() -> None:
    """Inspect and migrate the repository database."""


@db.command("info")
@pass_state
def info(state: CliState) -> None:
    """Show the database version and whether this redun can use it."""
    from redun._version import VERSION_BANNER
    from redun.backends.db.versions import is_compatible, required_range

    backend = _unchecked_backend(state)
    version = backend.get_db_version()
    url = backend.engine.url.render_as_string(hide_password=True)
    click.echo(f"redun :: version {VERSION_BANNER}")
    click.echo(f"config dir: {state.config_dir}")
    click.echo(f"db: {url}")
    click.echo("")
    click.echo(f"db version: {version} '{version.description}'")
    click.echo(f"CLI requires db versions: {required_range()}")
    click.echo(f"CLI compatible with db: {is_compatible(version)}")
    backend.close()


def _migrate(state: CliState, version_text: str, direction: str) -> None:
    from redun.backends.db import parse_db_version
    from redun.backends.db.versions import NULL_DB_VERSION, REDUN_DB_VERSIONS

    desired = parse_db_version(version_text)
    backend = _unchecked_backend(state)
    current = backend.get_db_version()
    if current != NULL_DB_VERSION and current not in REDUN_DB_VERSIONS:
        # Neither direction can work: this program has no migration from that version.
        raise CliError(
            f"The database is at version {current}, newer than any this redun knows "
            f"(latest {REDUN_DB_VERSIONS[-1]}): upgrade redun-core to migrate it."
        )
    if direction == "upgrade" and desired.key < current.key:
        raise CliError(
            f"Version {desired} is older than the database ({current}): "
            f"use 'redun db downgrade {desired}'."
        )
    if direction == "downgrade" and desired.key > current.key:
        raise CliError(
            f"Version {desired} is newer than the database ({current}): "
            f"use 'redun db upgrade {desired}'."
        )
    changed = backend.migrate(desired)
    if changed and desired.key == current.key:
        click.echo(f"Added the call-node lookup index (db version {current}).")
    elif changed:
        past = "Upgraded" if direction == "upgrade" else "Downgraded"
        click.echo(f"{past} db from version {current} to {desired}.")
    else:
        click.echo(f"Already at db version {current}.")
    backend.close()


@db.command("upgrade")
@click.argument("version", default="latest")
@pass_state
def upgrade(state: CliState, version: str) -> None:
    """Upgrade the schema to VERSION (default: latest)."""
    _migrate(state, version, "upgrade")


@db.command("downgrade")
@click.argument("version")
@pass_state
def downgrade(state: CliState, version: str) -> None:
    """Downgrade the schema to VERSION (tables added later are dropped)."""
    _migrate(state, version, "downgrade")


@db.command("versions")
def versions() -> None:
    """List every database version and its migration."""
    from redun.backends.db import REDUN_DB_VERSIONS

    click.echo(f"{'Version':8} {'Migration':13} Description")
    for version in REDUN_DB_VERSIONS:
        click.echo(f"{str(version):8} {version.migration_id:13} {version.description}")
