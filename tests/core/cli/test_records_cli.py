"""`redun export|import|push|pull` and `redun repo add|list|remove`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.backends.db import RedunBackendDb
from redun.cli.main import cli
from redun.testing.postgres import PostgresServer, postgres_server  # noqa: F401

from tests.core.backends.helpers import make_task, record_call


def run(config_dir: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["-c", str(config_dir), *args], input=input)


def make_repo(path: Path, uri: str = "sqlite:///redun.db") -> Path:
    path.mkdir(parents=True)
    (path / "redun.ini").write_text(f"[backend]\ndb_uri = {uri}\nautomigrate = true\n")
    return path


def record_execution(config_dir: Path, execution_id: str) -> None:
    backend = RedunBackendDb(f"sqlite:///{config_dir}/redun.db")
    backend.load()
    task = make_task("work")
    call_hash, _ = record_call(backend, task, [execution_id], 1)
    backend.record_execution(execution_id, ["redun", "run"], f"job-{execution_id}")
    backend.record_job_start(f"job-{execution_id}", task, execution_id, None, False)
    backend.record_job_end(f"job-{execution_id}", call_hash)
    backend.close()


@pytest.fixture
def local(tmp_path: Path) -> Path:
    config_dir = make_repo(tmp_path / "local" / ".redun")
    record_execution(config_dir, "exec-a")
    record_execution(config_dir, "exec-b")
    return config_dir


def test_export_import_round_trip(local: Path, tmp_path: Path) -> None:
    result = run(local, "export")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert {r["id"] for r in records if r["_type"] == "Execution"} == {"exec-a", "exec-b"}

    path = tmp_path / "a.jsonl"
    assert "Exported" in run(local, "export", "-f", str(path), "exec-a").output
    only_a = path.read_text().splitlines()
    assert len(only_a) < len(records)

    fresh = make_repo(tmp_path / "fresh" / ".redun")
    result = run(fresh, "import", "-f", str(path))
    assert result.stdout == f"Imported {len(only_a)} new record(s).\n"
    assert run(fresh, "import", input=path.read_text()).stdout == "Imported 0 new record(s).\n"

    result = run(fresh, "import", input="not json\n")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Line 1 is not a JSON record")
    result = run(fresh, "export", "nosuchid")
    assert result.exit_code == 1 and "No record with id" in result.output


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_push_pull_between_repos(
    local: Path, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    if kind == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        remote = make_repo(tmp_path / "remote" / ".redun", server.create_database())
    else:
        remote = make_repo(tmp_path / "remote" / ".redun")

    result = run(local, "repo", "add", "remote", str(remote))
    assert result.exit_code == 0, result.output
    listing = run(local, "repo", "list").output
    assert f"  remote: {remote}" in listing and "  default: " in listing

    result = run(local, "push", "remote")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Pushed ") and "to repo 'remote'" in result.stdout
    assert run(local, "push", "remote").stdout == "Repo 'remote' is up to date.\n"

    # A third repo pulls one execution back from the remote one.
    third = make_repo(tmp_path / "third" / ".redun")
    run(third, "repo", "add", "remote", str(remote))
    result = run(third, "pull", "remote", "exec-b")
    assert result.stdout.startswith("Pulled ") and "from repo 'remote'" in result.stdout
    exported = run(third, "export").output
    assert "exec-b" in exported and "exec-a" not in exported
    assert run(third, "pull", "remote", "exec-b").stdout == "Repo 'remote' is up to date.\n"


def test_repo_errors_and_remove(local: Path, tmp_path: Path) -> None:
    result = run(local, "repo", "add", "x", str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and "run 'redun init -c" in result.output
    assert "already exists" in run(local, "repo", "add", "default", str(local)).output
    assert "Unknown repo 'ghost'" in run(local, "push", "ghost").output
    other = make_repo(tmp_path / "other" / ".redun")
    run(local, "repo", "add", "other", str(other))
    (local / "redun.ini").write_text((local / "redun.ini").read_text() + "[tags]\nteam = a\n")
    assert run(local, "repo", "remove", "other").stdout == "Removed repo 'other'.\n"
    text = (local / "redun.ini").read_text()
    assert "repos.other" not in text and "[tags]\nteam = a" in text
    assert "Unknown repo 'other'" in run(local, "repo", "remove", "other").output


def test_push_to_itself_is_refused(local: Path) -> None:
    run(local, "repo", "add", "self", str(local))
    result = run(local, "push", "self")
    assert result.exit_code == 1
    assert "is the same database as the default repo" in result.output
