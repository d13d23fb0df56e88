"""Every command and subcommand, from every installed plugin, answers --help."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from redun.cli.main import cli


def command_paths(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{' '.join(prefix + (name,))} did not load"
        yield prefix + (name,)
        if isinstance(command, click.Group):
            sub_ctx = click.Context(command, info_name=name, parent=ctx)
            yield from command_paths(command, sub_ctx, prefix + (name,))


def all_paths() -> list[tuple[str, ...]]:
    ctx = click.Context(cli, info_name="redun")
    return [()] + list(command_paths(cli, ctx))


@pytest.mark.parametrize("path", all_paths(), ids=lambda p: " ".join(p) or "redun")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: redun")
    assert " ".join(("redun",) + path) in result.output.splitlines()[0]
