"""Each bad input of issue 13 gets one line saying what was wrong and what to do."""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun import Dir, File, Scheduler, task
from redun.backends.db import RedunBackendDb
from redun.cli.main import cli
from redun.config import Config
from sqlalchemy import text

from tests.core.reliability.helpers import Project

redun_namespace = "bad_input_test"


def cli_run(config_dir: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["-c", str(config_dir), *args], input=input)


def repo_with(tmp_path: Path, db_uri: str) -> Path:
    config_dir = tmp_path / ".redun"
    config_dir.mkdir(parents=True)
    (config_dir / "redun.ini").write_text(f"[backend]\ndb_uri = {db_uri}\n")
    return config_dir


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    return line


@pytest.mark.parametrize(
    "db_uri, expected",
    [
        ("postgresql+nosuchdriver://host/db", "unknown kind of database 'postgresql+nosuchdriver'"),
        ("postgresql://host:notaport/db", "is not a database URL"),
        ("sqlite://host/redun.db", "a SQLite URL has no host"),
    ],
)
def test_db_uri_of_unknown_kind_or_no_url(tmp_path: Path, db_uri: str, expected: str) -> None:
    line = one_error_line(cli_run(repo_with(tmp_path, db_uri), "log"))
    assert expected in line and "sqlite:///" in line


@pytest.mark.parametrize(
    "db_uri, driver",
    [("postgresql+psycopg2://host/db", "psycopg2"), ("sqlite+pysqlcipher:///x.db", "pysqlcipher3")],
)
def test_db_uri_naming_a_driver_that_is_not_installed(
    tmp_path: Path, db_uri: str, driver: str
) -> None:
    import importlib.util

    if importlib.util.find_spec(driver) is not None:
        pytest.skip(f"{driver} is installed here: the URL would work")
    line = one_error_line(cli_run(repo_with(tmp_path, db_uri), "log"))
    assert f"needs the Python driver {driver!r}, which is not installed" in line
    assert "postgresql://" in line


def test_import_of_a_record_missing_a_field(tmp_path: Path) -> None:
    project = Project(
        tmp_path / "a", "from redun import task\n\n@task()\ndef one() -> int:\n    return 1\n"
    )
    source = project.config_dir
    done = project.run("one")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in cli_run(source, "export").output.splitlines()]
    call_node = next(r for r in records if r["_type"] == "CallNode")
    del call_node["task_hash"]
    target = repo_with(tmp_path / "b", "sqlite:///redun.db")
    dump = "".join(json.dumps(r) + "\n" for r in records)
    line = one_error_line(cli_run(target, "import", input=dump))
    assert f"The CallNode record {call_node['call_hash']} lacks task_hash" in line
    assert "nothing was imported" in line
    assert "Exec " not in cli_run(target, "log").output
    line = one_error_line(cli_run(target, "import", input='{"_type": "Gadget"}\n'))
    assert "Not a redun record (_type 'Gadget')" in line


def test_db_upgrade_of_a_newer_database(tmp_path: Path) -> None:
    config_dir = repo_with(tmp_path, "sqlite:///redun.db")
    assert cli_run(config_dir, "db", "upgrade").exit_code == 0
    backend = RedunBackendDb(f"sqlite:///{config_dir / 'redun.db'}")
    backend.connect()
    with backend.engine.begin() as connection:
        connection.execute(
            text("insert into redun_version values ('v4', 4, :later)"),
            {"later": datetime.now(timezone.utc) + timedelta(days=1)},
        )
    backend.close()
    for command in (["db", "upgrade"], ["db", "downgrade", "3.5"]):
        line = one_error_line(cli_run(config_dir, *command))
        assert "newer than any this redun knows" in line and "upgrade redun-core" in line
        assert "downgrade" not in line


def test_import_errors_point_into_the_users_file(tmp_path: Path) -> None:
    syntax = tmp_path / "syn.py"
    syntax.write_text("from redun import task\n\n\ndef broken(:\n    pass\n")
    config_dir = repo_with(tmp_path, "sqlite:///redun.db")
    line = one_error_line(cli_run(config_dir, "run", str(syntax), "main"))
    assert f"cannot import {syntax} at {syntax}:4: SyntaxError: invalid syntax" in line

    raising = tmp_path / "boom.py"
    # The error is raised inside redun (File), the line to fix is the user's.
    raising.write_text("from redun import File\n\nplaces = File(3)\n")
    line = one_error_line(cli_run(config_dir, "run", str(raising), "f"))
    assert f"cannot import {raising} at {raising}:3: TypeError:" in line


@task
def returns_open_file(path: str):
    return open(path)


def test_task_returning_an_open_file_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("contents")
    config = Config({"backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"}})
    for _ in range(2):
        # Nothing was cached: the second run fails the same way (no io.StringIO comes back).
        with pytest.raises(Exception, match="returned an open file .*return File\\(path\\)"):
            Scheduler(config=config).run(returns_open_file(str(path)))


def test_a_process_task_returning_an_open_file_fails_clearly(tmp_path: Path) -> None:
    from tests.core.engine import process_tasks

    path = tmp_path / "data.txt"
    path.write_text("contents")
    config = Config(
        {
            "backend": {"db_uri": "sqlite:///:memory:"},
            "executors.default": {"type": "local", "mode": "process", "max_workers": "1"},
        }
    )
    with pytest.raises(Exception, match="returned an open file .*return File\\(path\\)"):
        Scheduler(config=config).run(process_tasks.open_file(str(path)))


@task
def read_all(file: File, folder: Dir) -> int:
    return 0


def test_missing_file_and_dir_that_is_a_file_warn(tmp_path: Path, caplog) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    caplog.set_level(logging.WARNING, logger="redun")
    scheduler = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))
    scheduler.run(read_all(File(str(tmp_path / "absent.txt")), Dir(str(plain))))
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "File argument does not exist when the task starts" in m and "absent.txt" in m
        for m in messages
    ), messages
    assert any("Dir argument is a regular file" in m and "plain.txt" in m for m in messages)


def test_task_defined_twice_in_one_module_warns(tmp_path: Path, caplog) -> None:
    module = tmp_path / "twice.py"
    module.write_text(
        textwrap.dedent(
            """
            from redun import task

            redun_namespace = "twice_test"


            @task()
            def step(x: int) -> int:
                return x


            @task()
            def step(x: int) -> int:
                return x + 1
            """
        )
    )
    caplog.set_level(logging.WARNING, logger="redun")
    import importlib.util

    spec = importlib.util.spec_from_file_location("twice_test_module", module)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    [message] = [r.getMessage() for r in caplog.records if "defined twice" in r.getMessage()]
    assert f"step is defined twice in {module} (lines 7 and 12): the second replaces" in message
