"""`redun db info|upgrade|downgrade|versions` on SQLite and PostgreSQL repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.cli.main import cli
from redun.testing.postgres import PostgresServer, postgres_server  # noqa: F401


def run(config_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-c", str(config_dir), *args])


@pytest.fixture(params=["sqlite", "postgres"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A config dir with redun.ini but no database schema yet."""
    config_dir = tmp_path / ".redun"
    config_dir.mkdir()
    if request.param == "sqlite":
        uri = "sqlite:///redun.db"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        uri = server.create_database()
    (config_dir / "redun.ini").write_text(f"[backend]\ndb_uri = {uri}\n")
    return config_dir


def test_info_upgrade_downgrade(repo: Path) -> None:
    result = run(repo, "db", "info")
    assert result.exit_code == 0, result.output
    assert "db version: none 'No schema present.'" in result.output
    assert "CLI requires db versions: >=3.5,<4" in result.output
    assert "CLI compatible with db: False" in result.output

    result = run(repo, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "Upgraded db from version none to 3.5." in result.output
    assert "CLI compatible with db: True" in run(repo, "db", "info").output

    result = run(repo, "db", "downgrade", "3.1")
    assert "Downgraded db from version 3.5 to 3.1." in result.output
    assert "db version: 3.1 'Add Tag schemas.'" in run(repo, "db", "info").output

    result = run(repo, "db", "upgrade", "3.0")
    assert result.exit_code == 1
    assert "Error: Version 3.0 is older than the database (3.1)" in result.output
    result = run(repo, "db", "downgrade", "3.5")
    assert result.exit_code == 1 and "use 'redun db upgrade 3.5'" in result.output

    assert "Upgraded db from version 3.1 to 3.5." in run(repo, "db", "upgrade", "3.5").output
    assert "Already at db version 3.5." in run(repo, "db", "upgrade").output


def test_bad_version_is_one_line(repo: Path) -> None:
    result = run(repo, "db", "upgrade", "7.7")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Unknown db version '7.7'")
    assert result.output.count("\n") == 1


def test_versions_table() -> None:
    result = CliRunner().invoke(cli, ["db", "versions"])
    lines = result.output.splitlines()
    assert lines[0].split() == ["Version", "Migration", "Description"]
    assert lines[-1].split()[:2] == ["3.5", "0bee3d6dba76"]
    assert len(lines) == 12


def test_commands_on_an_old_database_say_how_to_upgrade(repo: Path) -> None:
    run(repo, "db", "upgrade", "3.4")
    (repo / "redun.ini").write_text((repo / "redun.ini").read_text() + "automigrate = false\n")
    result = run(repo, "export")
    assert result.exit_code == 1
    assert "version 3.4" in result.output and "redun db upgrade" in result.output
