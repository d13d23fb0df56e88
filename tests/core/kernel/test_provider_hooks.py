"""Each provider hook, implemented by a third-party distribution, reaches its consumer."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from redun.config import load_config
from redun.plugins.manager import (
    get_executor_class,
    get_filesystem_class,
    get_plugin_manager,
)

from tests.helpers.distributions import make_distribution

PLUGIN = """
import click
from redun.plugins import (
    BackendSpec, CommandSpec, ConfigSectionSpec, ExecutorSpec, FileSystemSpec, ValueTypeSpec,
    hookimpl,
)

@hookimpl
def redun_backends():
    return [BackendSpec(("memory",), "tests.helpers.memory_store:MemoryBackend", "In memory")]

@hookimpl
def redun_executors():
    return [ExecutorSpec("acme", "acme_impl:AcmeExecutor", "Acme", config_keys=("speed",))]

@hookimpl
def redun_filesystems():
    return [FileSystemSpec(("acme", "acmes"), "acme_impl:AcmeFileSystem", "Acme store")]

@hookimpl
def redun_commands():
    return [CommandSpec("acme", "acme_impl:acme_command", "Talk to Acme.")]

@hookimpl
def redun_value_types():
    return [ValueTypeSpec("acme.Widget", "acme_impl")]

@hookimpl
def redun_config_sections():
    return [
        ConfigSectionSpec("acme", keys=("token_env", "region")),
        ConfigSectionSpec("scheduler", keys=("acme_mode",)),
    ]
"""

IMPL = '''
import click

class AcmeExecutor:
    pass

class AcmeFileSystem:
    pass

@click.command("acme")
@click.argument("name")
def acme_command(name):
    """Greet NAME from Acme."""
    click.echo(f"acme says hi to {name}")
'''


@pytest.fixture
def acme(site: Path) -> Path:
    make_distribution(
        site,
        "acme-redun",
        "2.0.0",
        {"acme": "acme_plugin"},
        {"acme_plugin": PLUGIN, "acme_impl": IMPL},
    )
    return site


def test_hook_redun_executors_resolves_plugin_executor(acme: Path) -> None:
    cls = get_executor_class("acme")
    assert cls.__name__ == "AcmeExecutor" and cls.__module__ == "acme_impl"
    assert get_plugin_manager().executor_specs()["acme"].config_keys == ("speed",)


def test_hook_redun_backends_serves_a_db_uri_scheme(acme: Path) -> None:
    """A store written against the contract alone runs workflows and serves cache hits."""
    from redun import Scheduler, task
    from redun.plugins.errors import MissingPluginError

    from tests.helpers.memory_store import MemoryBackend

    calls = []

    @task(name="double", namespace="memory_store_test")
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    @task(name="main", namespace="memory_store_test")
    def main(n: int) -> list:
        return [double(i) for i in range(n)] + [double(0)]

    config = {"backend": {"db_uri": "memory://one"}}
    scheduler = Scheduler(config=config)
    assert isinstance(scheduler.backend, MemoryBackend)
    assert scheduler.run(main(3)) == [0, 2, 4, 0]
    assert sorted(calls) == [0, 1, 2]  # double(0) twice in one execution: CSE
    assert Scheduler(config=config).run(main(3)) == [0, 2, 4, 0]
    assert sorted(calls) == [0, 1, 2]  # a new scheduler on the same store: cached
    assert get_plugin_manager().owner_of("backend", "memory") == "acme-redun"
    with pytest.raises(MissingPluginError, match="No state store for db_uri scheme 'nosuch'"):
        Scheduler(config={"backend": {"db_uri": "nosuch://x"}})


def test_hook_redun_filesystems_resolves_every_scheme(acme: Path) -> None:
    assert get_filesystem_class("acme").__name__ == "AcmeFileSystem"
    assert get_filesystem_class("acmes") is get_filesystem_class("acme")


def test_hook_redun_commands_adds_a_cli_command(acme: Path) -> None:
    from redun.cli.main import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert "Talk to Acme." in result.output
    result = CliRunner().invoke(cli, ["acme", "bob"])
    assert result.exit_code == 0
    assert result.output == "acme says hi to bob\n"


def test_hook_redun_value_types_maps_type_names_to_modules(acme: Path) -> None:
    specs = get_plugin_manager().value_type_specs()
    assert specs["acme.Widget"].target == "acme_impl"


def test_hook_redun_config_sections_validates_plugin_keys(
    acme: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "redun.ini").write_text(
        "[acme]\nregion = eu\ntokn_env = X\n[scheduler]\nacme_mode = fast\n"
        "[executors.fast]\ntype = acme\nsped = 3\n"
    )
    with caplog.at_level(logging.WARNING, logger="redun"):
        load_config(tmp_path)
    messages = sorted(r.getMessage().split(": ", 1)[1] for r in caplog.records)
    assert messages == [
        "[acme] unknown key 'tokn_env' (did you mean 'token_env'?)",
        "[executors.fast] unknown key 'sped' (did you mean 'speed'?)",
    ]


def test_hook_redun_add_hookspecs_lets_plugins_extend(site: Path) -> None:
    source = (
        "import pluggy\n"
        "from redun.plugins import hookimpl\n"
        "spec = pluggy.HookspecMarker('redun')\n"
        "class Specs:\n"
        "    @spec\n"
        "    def acme_screens(self):\n"
        "        '''Screens.'''\n"
        "@hookimpl\n"
        "def redun_add_hookspecs(pluginmanager):\n"
        "    pluginmanager.add_hookspecs(Specs)\n"
        "@hookimpl\n"
        "def acme_screens():\n"
        "    return 'screen'\n"
    )
    make_distribution(site, "acme-ui", "1.0", {"acmeui": "acme_ui"}, {"acme_ui": source})
    assert get_plugin_manager().hook.acme_screens() == ["screen"]


OPTION_PLUGIN = """
import click
from redun.plugins import CommandOptionSpec, hookimpl

seen = []

@hookimpl
def redun_command_options():
    return [CommandOptionSpec("plugins", "opt_plugin:{name}")]

good = click.Option(
    ["--acme-flag"], expose_value=False, is_flag=True,
    callback=lambda ctx, param, value: seen.append(value),
)
exposed = click.Option(["--acme-exposed"])
clashing = click.Option(["--json"], expose_value=False)
"""


@pytest.mark.parametrize(
    "name, error",
    [
        ("good", None),
        ("exposed", "must be a click.Option with expose_value=False"),
        ("clashing", "option --json from opt-redun is already an option of 'redun plugins'"),
    ],
)
def test_hook_redun_command_options_extends_an_existing_command(
    site: Path, name: str, error: str | None
) -> None:
    from redun.cli.main import cli

    make_distribution(
        site,
        "opt-redun",
        "1.0",
        {"opt": "opt_plugin"},
        {"opt_plugin": OPTION_PLUGIN.replace("{name}", name)},
    )
    result = CliRunner().invoke(cli, ["plugins", "--help"])
    if error:
        assert result.exit_code == 1
        assert error in result.output
        return
    assert "--acme-flag" in result.output
    result = CliRunner().invoke(cli, ["plugins", "--acme-flag", "--json"])
    assert result.exit_code == 0, result.output
    import opt_plugin

    assert opt_plugin.seen == [True]
