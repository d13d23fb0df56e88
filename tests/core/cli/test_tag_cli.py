"""`redun tag list|add|update|rm|history` on a recorded repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.backends.db import RedunBackendDb
from redun.cli.main import cli

from tests.core.backends.helpers import make_task, record_call


def run(config_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-c", str(config_dir), "tag", *args])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    config_dir = tmp_path / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text("[backend]\ndb_uri = sqlite:///redun.db\n")
    backend = RedunBackendDb(f"sqlite:///{config_dir}/redun.db")
    backend.load()
    task = make_task("work")
    call_hash, _ = record_call(backend, task, [1], 2)
    backend.record_execution("e1a2b3c4", ["redun", "run"], "j1")
    backend.record_job_start("j1", task, "e1a2b3c4", None, False)
    backend.record_job_end("j1", call_hash)
    backend.close()
    return config_dir


def test_add_update_rm_list_history(repo: Path) -> None:
    result = run(repo, "add", "e1a2", "env=dev", "owner=alice")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        'add tag Execution:e1a2b3c4 env="dev"',
        'add tag Execution:e1a2b3c4 owner="alice"',
    ]
    assert run(repo, "add", "-", "n=1").stdout == "add tag Execution:e1a2b3c4 n=1\n"
    assert run(repo, "rm", "~1", "n=1").stdout == "delete tag Execution:e1a2b3c4 n=1\n"
    assert run(repo, "update", "e1a2", "env=prod").stdout == (
        'update tag Execution:e1a2b3c4 env="prod"\n'
    )
    listing = run(repo, "list").stdout.splitlines()
    assert listing[0] == "Tags:"
    assert [line.split() for line in listing[1:]] == [
        ["env", "1", "Execution"],
        ["owner", "1", "Execution"],
    ]
    assert "env=prod" in run(repo, "list", "--values").stdout
    assert run(repo, "list", "env=prod").stdout == "Execution e1a2b3c4\n"
    assert run(repo, "list", "env=dev").stdout == ""

    assert run(repo, "rm", "e1a2", "owner").stdout == "delete tag Execution:e1a2b3c4 owner\n"
    assert "No matching tags" in run(repo, "rm", "e1a2", "owner").stdout

    history = run(repo, "history", "e1a2").stdout.splitlines()
    assert history[0] == "Tag history of Execution:e1a2b3c4"
    states = {line.split()[1]: " ".join(line.split()[2:]) for line in history[1:]}
    assert states["env=prod"] == "current"
    assert states["env=dev"].startswith("replaced by ")
    assert states["owner=alice"] == "deleted"


def test_errors_are_one_line(repo: Path) -> None:
    result = run(repo, "add", "zzz", "a=1")
    assert result.exit_code == 1 and "No record with id (or id prefix) 'zzz'" in result.output
    result = run(repo, "add", "e1a2")
    assert result.exit_code == 1 and "Give record ids and tags" in result.output
    result = run(repo, "add", "e1a2", "=x")
    assert result.exit_code == 1 and "key must be given" in result.output
