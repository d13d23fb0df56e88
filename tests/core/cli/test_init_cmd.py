"""`redun init`: a repository with redun.ini and a migrated database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from redun.cli.main import cli


def assert_initialized(config_dir: Path) -> None:
    assert "[backend]" in (config_dir / "redun.ini").read_text()
    with sqlite3.connect(config_dir / "redun.db") as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert {"execution", "job", "call_node", "value", "redun_version"} <= tables


def test_init_in_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Initialized redun repository: {tmp_path / '.redun'}\n"
    assert_initialized(tmp_path / ".redun")


def test_init_basedir_and_explicit_config_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "project")])
    assert result.exit_code == 0, result.output
    assert_initialized(tmp_path / "project" / ".redun")

    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "custom"), "init"])
    assert result.exit_code == 0, result.output
    assert_initialized(tmp_path / "custom")

    result = CliRunner().invoke(cli, ["init", "-c", str(tmp_path / "other")])
    assert result.exit_code == 0, result.output
    assert_initialized(tmp_path / "other")


def test_init_keeps_an_existing_config(tmp_path: Path) -> None:
    config_dir = tmp_path / "repo"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text("[backend]\ndb_uri = sqlite:///mine.db\n")
    result = CliRunner().invoke(cli, ["-c", str(config_dir), "init"])
    assert result.exit_code == 0, result.output
    assert (config_dir / "redun.ini").read_text() == "[backend]\ndb_uri = sqlite:///mine.db\n"
    assert (config_dir / "mine.db").exists()


def test_init_finds_the_repository_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    CliRunner().invoke(cli, ["init", str(tmp_path)])
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    result = CliRunner().invoke(cli, ["init"])
    assert result.stdout == f"Initialized redun repository: {tmp_path / '.redun'}\n"
    assert not (nested / ".redun").exists()
