"""``redun fs``: copy, list and print files on any installed filesystem.

Script tasks rely on ``redun fs cp`` to stage files of filesystems without a
shell tool of their own, so it must handle stdin/stdout (``-``) and trees.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click

from redun.cli.errors import CliError
from redun.file import (
    Dir,
    File,
    get_filesystem,
    list_filesystem_schemes,
    open_file,
)

STDIO = "-"


@contextmanager
def _user_errors(action: str) -> Iterator[None]:
    """Report filesystem errors as one line instead of a traceback."""
    try:
        yield
    except BrokenPipeError:
        # The reader went away (e.g. `redun fs cat x | head`): stop quietly, and
        # point stdout at /dev/null so the final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise click.exceptions.Exit(0) from None
    except OSError as error:
        reason = error.strerror or str(error)
        path = getattr(error, "path", None) or error.filename
        message = f"cannot {action} {path}: {reason}" if path else f"cannot {action}: {reason}"
        raise CliError(message) from None


def _stream(infile: IO[bytes], outfile: IO[bytes]) -> None:
    shutil.copyfileobj(infile, outfile, 1024 * 1024)
    outfile.flush()


@click.group("fs", invoke_without_command=True)
@click.pass_context
def fs(ctx: click.Context) -> None:
    """Filesystem commands (local, http, https, and schemes of installed plugins).

    Without a subcommand, lists the supported URL schemes.
    """
    if ctx.invoked_subcommand is None:
        click.echo("Supported filesystems:")
        for scheme in list_filesystem_schemes():
            click.echo(f"  {scheme}")


@fs.command("cp", short_help="Copy a file or tree between filesystems (- is stdio).")
@click.argument("src")
@click.argument("dest")
@click.option("-r", "--recursive", is_flag=True, help="Copy a directory tree.")
def cp(src: str, dest: str, recursive: bool) -> None:
    """Copy SRC to DEST across filesystems; "-" is stdin (SRC) or stdout (DEST).

    A DEST ending in "/" (or an existing directory) receives SRC under its own name.
    """
    if recursive:
        if STDIO in (src, dest):
            raise CliError("--recursive needs a source and a destination path, not '-'")
        with _user_errors("copy"):
            if not get_filesystem(url=src).isdir(src):
                raise CliError(f"cannot copy {src}: not a directory (drop --recursive for files)")
            Dir(src).copy_to(Dir(dest))
        return

    with _user_errors("copy"):
        if src == STDIO and dest == STDIO:
            _stream(sys.stdin.buffer, sys.stdout.buffer)
        elif src == STDIO:
            with open_file(dest, "wb") as outfile:
                _stream(sys.stdin.buffer, outfile)
        elif dest == STDIO:
            with open_file(src, "rb") as infile:
                _stream(infile, sys.stdout.buffer)
        else:
            source = File(src)
            if source.isdir():
                raise CliError(f"cannot copy {src}: it is a directory (use --recursive)")
            if not source.exists():
                raise CliError(f"cannot copy {src}: No such file or directory")
            if dest.endswith("/") or get_filesystem(url=dest).isdir(dest):
                dest = f"{dest.rstrip('/')}/{source.basename()}"
            source.copy_to(File(dest))


@fs.command("ls", short_help="List a directory, a file or a glob pattern.")
@click.argument("path")
@click.option("-r", "--recursive", is_flag=True, help="List every file below PATH.")
def ls(path: str, recursive: bool) -> None:
    """List PATH: a directory's entries (directories end in "/"), a file, or glob matches."""
    with _user_errors("list"):
        filesystem = get_filesystem(url=path)
        if recursive:
            entries = [entry.path for entry in Dir(path)]
        elif filesystem.isdir(path):
            entries = [
                entry.rstrip("/") + "/" if filesystem.isdir(entry) else entry
                for entry in filesystem.glob(f"{path.rstrip('/')}/*")
            ]
        else:
            entries = filesystem.glob(path)
            if not entries:
                raise CliError(f"cannot list {path}: No such file or directory")
        for entry in sorted(entries):
            click.echo(entry)


@fs.command("cat")
@click.argument("paths", nargs=-1, required=True)
def cat(paths: tuple[str, ...]) -> None:
    """Print the bytes of each PATH to stdout."""
    stdout = sys.stdout.buffer
    for path in paths:
        with _user_errors("read"), open_file(path, "rb") as infile:
            _stream(infile, stdout)
