"""The root command: global options, lazy subcommands, plugins listing, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from redun import __version__
from redun._version import DISTRIBUTION_VERSION
from redun.cli.errors import CliError
from redun.cli.main import cli
from redun.cli.versions import require_version, version_tuple


def run(*args: str, **kwargs) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), **kwargs)


def test_no_arguments_prints_help() -> None:
    result = run()
    assert "Usage: redun" in result.output
    assert "plugins" in result.output and "init" in result.output


def test_help_lists_commands_without_importing_them() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from redun.cli.main import cli\n"
        "out = CliRunner().invoke(cli, ['--help']).output\n"
        "assert 'List installed plugins.' in out, out\n"
        "assert 'redun.cli.plugins_cmd' not in sys.modules\n"
        "assert 'redun.cli.init_cmd' not in sys.modules\n"
        "assert 'sqlalchemy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == __version__
    assert run("-V").output.strip() == __version__


def test_check_version() -> None:
    assert run("--check-version", ">=0.0.1", "plugins").exit_code == 0
    result = run("--check-version", ">=999", "plugins")
    assert result.exit_code == 1
    assert (
        f"Error: redun {__version__} does not satisfy the required version >=999" in result.output
    )
    result = run("--check-version", "about 1", "plugins")
    assert "cannot parse 'about 1'" in result.output


def test_require_version_clauses() -> None:
    assert version_tuple("0.46.0rc1") == (0, 46, 0)
    require_version("1.2.0", ">=1.2,<2")
    require_version("1.2", "==1.2.0")
    with pytest.raises(CliError):
        require_version("1.2.0", ">1.2,<2")


def test_bad_log_level_is_a_usage_error() -> None:
    result = run("--log-level", "LOUD", "plugins")
    assert result.exit_code == 2
    assert "Invalid value for '--log-level'" in result.output


def test_bad_setup_argument() -> None:
    result = run("-s", "novalue", "plugins")
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output


def test_unknown_command_from_a_known_plugin_hints_install() -> None:
    result = run("console")
    assert result.exit_code == 2
    assert "No command 'console': pip install redun-console" in result.output


def test_unknown_command() -> None:
    result = run("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


def test_plugins_text_and_json() -> None:
    result = run("plugins")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "HOOKS"]
    assert any(
        line.split()[:3] == ["builtins.executors", "redun-core", DISTRIBUTION_VERSION]
        for line in lines
    )

    data = json.loads(run("plugins", "--json").output)
    names = {p["name"]: p for p in data["plugins"]}
    assert names["builtins.filesystems"]["hooks"] == ["redun_filesystems"]
    assert data["failed"] == []


def test_explicit_config_without_ini_is_an_error(tmp_path: Path) -> None:
    @click.command("probe")
    @click.pass_obj
    def probe(state) -> None:
        click.echo(str(state.config_dir))

    cli.add_command(probe)
    try:
        result = run("-c", str(tmp_path / "missing"), "probe")
        assert result.exit_code == 1
        assert result.output.strip() == (
            f"Error: No redun config found at {tmp_path / 'missing'}. "
            f"Run 'redun init -c {tmp_path / 'missing'}'"
        )
        (tmp_path / "ok").mkdir()
        (tmp_path / "ok" / "redun.ini").write_text("[backend]\n")
        result = run("-c", str(tmp_path / "ok"), "probe")
        assert result.output.strip() == str(tmp_path / "ok")
        result = run("probe", env={"REDUN_CONFIG": str(tmp_path / "env")})
        assert result.output.strip() == str(tmp_path / "env")
        assert (tmp_path / "env" / "redun.ini").exists()
    finally:
        cli.commands.pop("probe")


def test_malformed_config_is_one_line(tmp_path: Path) -> None:
    @click.command("probe2")
    @click.pass_obj
    def probe2(state) -> None:
        state.config  # noqa: B018 - loading is the point

    cli.add_command(probe2)
    try:
        (tmp_path / "redun.ini").write_text("[backend\n")
        result = run("-c", str(tmp_path), "probe2")
        assert result.exit_code == 1
        assert result.output.count("\n") == 1
        assert result.output.startswith(f"Error: {tmp_path / 'redun.ini'}:1:")
    finally:
        cli.commands.pop("probe2")


def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    redun = Path(sys.executable).parent / "redun"
    env = {**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [str(redun), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == __version__
    assert not (tmp_path / ".redun").exists(), "--version must not create a repository"
