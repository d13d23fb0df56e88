"""``redun plugins``: what is installed, from which distribution, implementing what."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from redun.plugins.manager import get_plugin_manager


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed plugins with their distribution, version and hooks.

    Plugins blocked by REDUN_DISABLED_PLUGINS (builtins too) are listed as disabled.
    """
    manager = get_plugin_manager()
    infos = manager.plugin_infos()
    if as_json:
        payload = {
            "plugins": [asdict(info) for info in infos],
            "failed": [
                {"name": e.name, "distribution": e.distribution, "error": str(e.error)}
                for e in manager.load_errors
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    rows = [("NAME", "DISTRIBUTION", "VERSION", "HOOKS")]
    rows += [
        (i.name, i.distribution, i.version, "disabled" if i.disabled else ", ".join(i.hooks) or "-")
        for i in infos
    ]
    widths = [max(len(row[col]) for row in rows) for col in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    for error in manager.load_errors:
        click.echo(f"failed: {error}")
