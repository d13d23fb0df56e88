"""redun's scripting face of the command line: `RedunClient` and the helpers around it.

redun's users drive the CLI from Python (notebooks, test fixtures, wrappers)::

    client = RedunClient()
    client.stdout = io.StringIO()
    result = client.execute(["redun", "run", "workflow.py", "main", "--x", "1"])

`execute` runs the same commands as the ``redun`` program, in-process: it
returns what the command returns (``redun run``: the task's result; others:
None), writes to the client's `stdout` and `stderr`, raises `RedunClientError`
for a user error, the task's own exception when a task fails, and SystemExit
where the program exits (bad usage: 2, ``run --dryrun`` with work left: 1).

`setup_scheduler`, `setup_config`, `get_config_dir`, `import_script` and
`check_version` keep redun's signatures.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO, Any

import click

from redun.cli.errors import RedunClientError
from redun.cli.run_cmd import import_script
from redun.cli.state import CliState
from redun.cli.versions import check_version
from redun.config import CONFIG_DIR_NAME, CONFIG_FILENAME, Config, ConfigError
from redun.scheduler_config import DEFAULT_REPO_NAME, REDUN_CONFIG_ENV

__all__ = [
    "REDUN_CONFIG_ENV",
    "RedunClient",
    "RedunClientError",
    "check_version",
    "find_config_dir",
    "get_config_dir",
    "import_script",
    "setup_config",
    "setup_scheduler",
]


class RedunClient:
    """Run ``redun ...`` command lines in this process (see the module docstring)."""

    def __init__(self, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.scheduler: Any = None
        self.repo: str = DEFAULT_REPO_NAME
        self.stdout: IO[str] = stdout if stdout is not None else sys.stdout
        self.stderr: IO[str] = stderr if stderr is not None else sys.stderr

    def execute(self, argv: list[str] | None = None) -> Any:
        """Run one command line, program name first (default: `sys.argv`)."""
        from redun.cli.main import cli

        words = list(sys.argv if argv is None else argv)
        state = CliState(argv=words, embedded=True)
        no_args_help = getattr(click.exceptions, "NoArgsIsHelpError", ())
        try:
            with contextlib.redirect_stdout(self.stdout), contextlib.redirect_stderr(self.stderr):
                try:
                    with cli.make_context("redun", words[1:], obj=state) as ctx:
                        return cli.invoke(ctx)
                except no_args_help as error:
                    # redun prints its help when given no command.
                    assert error.ctx is not None
                    click.echo(error.ctx.get_help())
                    return None
                except click.exceptions.Exit as exit:
                    if exit.exit_code:
                        raise SystemExit(exit.exit_code) from None
                    return None
                except click.UsageError as error:
                    error.show()
                    raise SystemExit(error.exit_code) from None
        except RedunClientError:
            raise
        except click.ClickException as error:
            raise RedunClientError(error.format_message()) from None
        finally:
            self.repo = state.repo
            if state.scheduler is not None:
                self.scheduler = state.scheduler

    def check_version(self, required_version: str) -> None:
        """Raise RedunClientError unless this redun satisfies `required_version`."""
        from redun._version import __version__

        if not check_version(__version__, required_version):
            raise RedunClientError(
                f"redun version {__version__} does not meet requirement {required_version}"
            )


def find_config_dir(cwd: str | None = None) -> str | None:
    """The nearest ``.redun`` directory at or above `cwd` (default: the working dir)."""
    start = Path(cwd or os.getcwd()).absolute()
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_DIR_NAME
        if candidate.exists():
            return str(candidate)
    return None


def get_config_dir(config_dir: str | None = None) -> str:
    """The config dir, as redun picks it: `config_dir`, $REDUN_CONFIG, ``.redun`` upward, else
    ``.redun`` (relative, not created)."""
    if config_dir:
        return config_dir
    from_env = os.environ.get(REDUN_CONFIG_ENV)
    if from_env:
        return from_env
    return find_config_dir() or CONFIG_DIR_NAME


def setup_config(
    config_dir: str | None = None,
    db_uri: str | None = None,
    repo: str = DEFAULT_REPO_NAME,
    initialize: bool = True,
) -> Config:
    """The post-processed config of a repository (or of its ``[repos.NAME]`` `repo`).

    With `initialize`, a missing redun.ini is written first (the default one,
    with `db_uri` when given), as redun does.
    """
    from redun.config import DEFAULT_CONFIG, init_config_dir, load_config

    directory = get_config_dir(config_dir)
    ini = Path(directory) / CONFIG_FILENAME
    if "://" not in directory and not ini.exists():
        if not initialize:
            raise RedunClientError(f"No redun config found at {ini}")
        try:
            if db_uri:
                ini.parent.mkdir(parents=True, exist_ok=True)
                ini.write_text(DEFAULT_CONFIG.replace("sqlite:///redun.db", db_uri, 1))
            else:
                init_config_dir(Path(directory))
        except (OSError, ConfigError) as error:
            raise RedunClientError(f"Cannot create {ini}: {error}") from None
    try:
        config = load_config(directory)
    except ConfigError as error:
        raise RedunClientError(str(error)) from None
    if repo == DEFAULT_REPO_NAME:
        return config
    section = config.get("repos", {}).get(repo)
    if not section:
        raise RedunClientError(f"Unknown repository: {repo}")
    if not section.get("config_dir"):
        raise RedunClientError(f"config_dir is not specified for repository {repo}")
    return setup_config(section["config_dir"], initialize=False)


def _setup_kwargs(setup_args: list[str] | None) -> dict[str, str]:
    kwargs = {}
    for item in setup_args or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"Setup argument must be the format `option=value`, not {item!r}.")
        kwargs[key] = value
    return kwargs


def setup_scheduler(
    config_dir: str | None = None,
    setup_args: list[str] | None = None,
    repo: str = DEFAULT_REPO_NAME,
    migrate: bool | None = None,
    migrate_if_local: bool = False,
) -> Any:
    """A loaded Scheduler for a repository, built as ``redun run`` builds it.

    `setup_args` are ``"key=value"`` strings for the ``[scheduler]
    setup_scheduler`` function (typed by its annotations); `migrate_if_local`
    migrates a SQLite database.
    """
    from redun.scheduler.user_setup import setup_scheduler as build

    config = setup_config(config_dir, repo=repo)
    if migrate_if_local and config.get("backend", {}).get("db_uri", "").startswith("sqlite"):
        migrate = True
    return build(config, _setup_kwargs(setup_args), migrate=migrate)
