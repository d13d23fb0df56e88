"""The root ``redun`` group: global options and lazily loaded subcommands."""

from __future__ import annotations

import copy
import sys
import types
from typing import Any

import click

from redun._version import __version__
from redun.cli.errors import CliError
from redun.cli.state import CliState
from redun.cli.versions import require_version
from redun.errors import RedunError
from redun.logging import LOG_LEVELS, setup_logging


def _manager() -> Any:
    from redun.plugins.manager import get_plugin_manager

    try:
        return get_plugin_manager()
    except RedunError as error:
        raise CliError(str(error)) from None


class LazyCommandGroup(click.Group):
    """Subcommands come from ``redun_commands`` and are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_manager().command_specs()) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self._load_command(ctx, cmd_name)
        return _with_plugin_options(cmd_name, command) if command is not None else None

    def _load_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        manager = _manager()
        spec = manager.command_specs().get(cmd_name)
        if spec is None:
            if ("command", cmd_name) in _known_commands():
                raise click.UsageError(str(manager.missing("command", cmd_name)), ctx)
            return None
        from redun.plugins.manager import load_target

        try:
            command = load_target(spec.target)
        except Exception as error:
            owner = manager.owner_of("command", cmd_name)
            raise CliError(
                f"command '{cmd_name}' from {owner} failed to load "
                f"({type(error).__name__}: {error}); reinstall {owner}"
            ) from None
        if not isinstance(command, click.Command):
            raise CliError(f"command '{cmd_name}' target {spec.target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        specs = _manager().command_specs()
        rows = [
            (
                name,
                specs[name].short_help
                if name in specs
                else self.commands[name].get_short_help_str(),
            )
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            if ctx.meta.get(SETUP_HELP):
                # Needs no subcommand, as in redun.
                return _show_setup_help(ctx.params.get("config_option"))
            return super().invoke(ctx)
        except RedunError as error:
            raise CliError(str(error)) from None


def _with_plugin_options(name: str, command: click.Command) -> click.Command:
    """`command` with the options plugins add to it (a copy: the original stays as defined)."""
    extra = _manager().command_option_specs(name)
    if not extra:
        return command
    from redun.plugins.manager import load_target

    manager = _manager()
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    params = list(command.params)
    for plugin, spec in extra:
        try:
            option = load_target(spec.target)
        except Exception as error:
            distribution = manager.distribution_of(plugin)
            raise CliError(
                f"option for 'redun {name}' from {distribution} failed to load "
                f"({type(error).__name__}: {error}); reinstall {distribution}"
            ) from None
        if not isinstance(option, click.Option) or option.expose_value:
            raise CliError(
                f"{spec.target} from {manager.distribution_of(plugin)} must be a click.Option "
                "with expose_value=False (it acts through its callback)"
            )
        clash = sorted(taken & set(option.opts))
        if clash:
            raise CliError(
                f"option {', '.join(clash)} from {manager.distribution_of(plugin)} is already "
                f"an option of 'redun {name}'; uninstall or disable one of the plugins"
            )
        taken.update(option.opts)
        params.append(option)
    extended = copy.copy(command)
    extended.params = params
    return extended


SETUP_HELP = "redun.setup_help"


def _remember_setup_help(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    ctx.meta[SETUP_HELP] = value


def _show_setup_help(config_option: str | None) -> None:
    """``redun --setup-help``: the ``-s`` options of the repo's setup_scheduler function."""
    from redun.config import ConfigError, find_config_dir, load_config
    from redun.scheduler.user_setup import setup_help

    try:
        config_dir = find_config_dir(config_option)
    except ConfigError as error:
        raise CliError(str(error)) from None
    assert config_dir is not None
    for line in setup_help(load_config(config_dir)):
        click.echo(line)


def _known_commands() -> set[tuple[str, str]]:
    from redun.plugins.manager import KNOWN_PROVIDERS

    return {key for key in KNOWN_PROVIDERS if key[0] == "command"}


def _parse_setup(values: tuple[str, ...]) -> dict[str, str]:
    setup = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--setup")
        setup[key] = value
    return setup


@click.group(
    name="redun",
    cls=LazyCommandGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
)
@click.option(
    "-c",
    "--config",
    "config_option",
    metavar="DIR",
    help="Config directory (default: $REDUN_CONFIG, else .redun searched upward).",
)
@click.option("-r", "--repo", default="default", show_default=True, help="Repository to use.")
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Verbosity of [redun] log lines.",
)
@click.option(
    "-s",
    "--setup",
    multiple=True,
    metavar="KEY=VALUE",
    help="Argument for the [scheduler] setup_scheduler function (repeatable).",
)
@click.option(
    "--setup-help",
    is_flag=True,
    expose_value=False,
    callback=_remember_setup_help,
    help="Show the -s/--setup options of [scheduler] setup_scheduler.",
)
@click.option("--check-version", metavar="SPEC", help="Fail unless redun matches, e.g. '>=0.8.0'.")
# Bare, as redun prints it, so scripts that parse it keep working.
@click.version_option(__version__, "-V", "--version", prog_name="redun", message="%(version)s")
@click.pass_context
def cli(
    ctx: click.Context,
    config_option: str | None,
    repo: str,
    log_level: str,
    setup: tuple[str, ...],
    check_version: str | None,
) -> None:
    """redun: lazy, cached, provenance-recording workflows."""
    setup_logging(log_level)
    if check_version:
        require_version(__version__, check_version)
    # `RedunClient.execute` passes its own state in (``obj``); the `redun` command does not.
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState(owns_process=_owns_process)
    state.config_option = config_option
    state.repo = repo
    state.setup = _parse_setup(setup)
    ctx.obj = state
    ctx.call_on_close(state.close)


_owns_process = False


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (`argv` without the program name)."""
    global _owns_process
    _owns_process = True
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="redun")


class _RedunMain(types.ModuleType):
    """This module, callable as redun's ``redun.cli.main(argv=sys.argv)``.

    ``from redun.cli import main`` gives this module (a package's submodule
    shadows a function of the same name), so calling it runs the command line
    `argv` (program name first, as in redun): None on success, SystemExit
    with the exit code otherwise. The caller's process stays its own (no
    `gc.freeze`, unlike the ``redun`` program).
    """

    def __call__(self, argv: list[str] | None = None) -> None:
        words = list(sys.argv if argv is None else argv)[1:]
        try:
            cli.main(args=words, prog_name="redun")
        except SystemExit as exit:
            if exit.code not in (0, None):
                raise


sys.modules[__name__].__class__ = _RedunMain
