"""`redun.cli` as redun's users script it: RedunClient, setup_scheduler, main and helpers."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import redun
from redun import Scheduler, task

WORKFLOW = """
from redun import task

redun_namespace = "{ns}"


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def main(x: int = 1) -> dict:
    return {{"sum": add(x, 10), "x": x}}


@task()
def fail(x: int = 1) -> int:
    raise ValueError(f"boom {{x}}")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory of a test, with no repository yet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDUN_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def script(project: Path) -> str:
    """A workflow file in the project (module and namespace unique to the test)."""
    name = f"wf_{uuid.uuid4().hex[:10]}"
    (project / f"{name}.py").write_text(WORKFLOW.format(ns=name))
    return f"{name}.py"


def client_with_buffers():
    from redun.cli import RedunClient

    client = RedunClient()
    client.stdout = io.StringIO()
    client.stderr = io.StringIO()
    return client


def test_execute_runs_any_redun_command_line_and_returns_the_result(
    project: Path, script: str
) -> None:
    client = client_with_buffers()
    assert client.execute(["redun", "init"]) is None
    config_dir = project / ".redun"
    assert f"Initialized redun repository: {config_dir}" in client.stdout.getvalue()
    assert (config_dir / "redun.ini").exists()

    client.stdout = io.StringIO()
    result = client.execute(["redun", "run", script, "main", "--x", "5"])
    assert result == {"sum": 15, "x": 5}
    assert client.stdout.getvalue() == "{'sum': 15, 'x': 5}\n"
    # The scheduler the command used stays on the client, as in redun.
    assert isinstance(client.scheduler, Scheduler)

    client.stdout = io.StringIO()
    assert client.execute(["redun", "-c", str(config_dir), "log"]) is None
    lines = client.stdout.getvalue().splitlines()
    assert lines[0] == "Recent executions:"
    execs = [line for line in lines if line.startswith("Exec ")]
    assert len(execs) == 1 and f"run {script} main --x 5" in execs[0]


def test_streams_given_to_the_constructor(project: Path, script: str) -> None:
    from redun.cli import RedunClient

    out = io.StringIO()
    client = RedunClient(stdout=out)
    assert client.stdout is out
    client.execute(["redun", "init"])
    assert client.execute(["redun", "run", script, "add", "--a", "1", "--b", "2"]) == 3
    assert out.getvalue().splitlines()[-1] == "3"


def test_a_failing_task_raises_its_own_error(project: Path, script: str) -> None:
    client = client_with_buffers()
    client.execute(["redun", "init"])
    with pytest.raises(ValueError, match="boom 3"):
        client.execute(["redun", "run", script, "fail", "--x", "3"])


def test_user_errors_are_redun_client_errors(project: Path, script: str) -> None:
    from redun.cli import RedunClientError

    client = client_with_buffers()
    with pytest.raises(RedunClientError, match="No redun config found at"):
        client.execute(["redun", "-c", str(project / "nowhere"), "log"])
    client.execute(["redun", "init"])
    with pytest.raises(RedunClientError, match='Unknown task "nope"'):
        client.execute(["redun", "run", script, "nope"])
    with pytest.raises(RedunClientError, match="does not satisfy"):
        client.execute(["redun", "--check-version", ">=99", "log"])
    # Bad usage exits like argparse does, with the usage on the client's stderr.
    with pytest.raises(SystemExit) as exit_info:
        client.execute(["redun", "log", "--no-such-flag"])
    assert exit_info.value.code == 2
    assert "--no-such-flag" in client.stderr.getvalue()


def test_dryrun_with_work_to_do_exits_1(project: Path, script: str) -> None:
    client = client_with_buffers()
    client.execute(["redun", "init"])
    with pytest.raises(SystemExit) as exit_info:
        client.execute(["redun", "run", "--dryrun", script, "main"])
    assert exit_info.value.code == 1
    client.execute(["redun", "run", script, "main"])
    assert client.execute(["redun", "run", "--dryrun", script, "main"]) == {
        "sum": 11,
        "x": 1,
    }


def test_version_and_help(project: Path) -> None:
    client = client_with_buffers()
    assert client.execute(["redun", "-V"]) is None
    assert client.stdout.getvalue() == f"{redun.__version__}\n"
    client.stdout = io.StringIO()
    assert client.execute(["redun"]) is None
    assert "Usage: redun" in client.stdout.getvalue()


def test_check_version() -> None:
    from redun.cli import check_version

    assert check_version(redun.__version__, ">=0.8.0")
    assert check_version(redun.__version__, ">=0.44,<1")
    assert check_version("0.46.0", "0.46.0") and check_version("0.46.0", "==0.46")
    assert not check_version("0.46.0", "<0.4")
    assert not check_version("0.46.0", ">0.46.0")
    with pytest.raises(ValueError, match="Invalid version"):
        check_version("0.46.0", "~=0.46")


SETUP = """
from redun import Scheduler


def setup(config, profile: str = "default", workers: int = 1) -> Scheduler:
    scheduler = Scheduler(config=config)
    scheduler.profile = (profile, workers)
    return scheduler
"""


def test_setup_scheduler_with_redun_s_signature(project: Path) -> None:
    from redun.cli import setup_scheduler

    config_dir = project / "repo" / ".redun"
    # Like redun's, it creates the repository when there is none.
    scheduler = setup_scheduler(str(config_dir), migrate_if_local=True)
    assert isinstance(scheduler, Scheduler)
    assert (config_dir / "redun.ini").exists()

    @task()
    def times_two(x: int) -> int:
        return 2 * x

    assert scheduler.run(times_two(21)) == 42

    (config_dir / "setup.py").write_text(SETUP)
    ini = config_dir / "redun.ini"
    ini.write_text(ini.read_text() + "\n[scheduler]\nsetup_scheduler = setup.py::setup\n")
    scheduler = setup_scheduler(str(config_dir), ["profile=fast", "workers=3"])
    assert scheduler.profile == ("fast", 3)
    assert setup_scheduler(config_dir=str(config_dir)).profile == ("default", 1)
    with pytest.raises(ValueError, match="option=value"):
        setup_scheduler(str(config_dir), ["profile"])


def test_setup_scheduler_for_another_repo(project: Path) -> None:
    from redun.cli import RedunClientError, setup_scheduler

    other = project / "other" / ".redun"
    setup_scheduler(str(other))
    here = project / ".redun"
    setup_scheduler(str(here))
    ini = here / "redun.ini"
    ini.write_text(ini.read_text() + f"\n[repos.other]\nconfig_dir = {other}\n")
    scheduler = setup_scheduler(str(here), repo="other")
    assert scheduler.config["backend"]["db_uri"] == f"sqlite:///{other / 'redun.db'}"
    with pytest.raises(RedunClientError, match="nope"):
        setup_scheduler(str(here), repo="nope")


def test_get_config_dir(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from redun.cli import REDUN_CONFIG_ENV, get_config_dir

    assert REDUN_CONFIG_ENV == "REDUN_CONFIG"
    assert get_config_dir("some/dir") == "some/dir"
    assert get_config_dir() == ".redun"  # nothing found: the default, created by nobody
    assert not (project / ".redun").exists()
    (project / ".redun").mkdir()
    (project / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(project / "sub" / "deeper")
    assert get_config_dir() == str(project / ".redun")
    monkeypatch.setenv(REDUN_CONFIG_ENV, "/from/env")
    assert get_config_dir() == "/from/env"


def test_import_script(project: Path, script: str) -> None:
    from redun.cli import RedunClientError, import_script

    module = import_script(script)
    assert module.__name__ == script[:-3] and module.add.name == "add"
    package = f"pkg_{uuid.uuid4().hex[:10]}"
    (project / package).mkdir()
    (project / package / "__init__.py").write_text("")
    (project / package / "flows.py").write_text("VALUE = 7\n")
    assert import_script(f"{package}.flows").VALUE == 7
    with pytest.raises(RedunClientError, match="missing_module"):
        import_script("missing_module")


def test_call_graph_query_from_redun_cli(project: Path, script: str) -> None:
    from redun.backends.db.query import CallGraphQuery as canonical
    from redun.cli import CallGraphQuery, RedunClient

    assert CallGraphQuery is canonical
    client = RedunClient(stdout=io.StringIO())
    client.execute(["redun", "init"])
    client.execute(["redun", "run", script, "main"])
    session = client.scheduler.backend.session
    assert [row.status for row in CallGraphQuery(session).filter_types({"Execution"}).all()] == [
        "DONE"
    ]


def test_main_takes_redun_s_argv(project: Path, capsys: pytest.CaptureFixture) -> None:
    from redun.cli import main

    assert main(["redun", "-V"]) is None
    assert capsys.readouterr().out == f"{redun.__version__}\n"
    with pytest.raises(SystemExit) as exit_info:
        main(["redun", "-c", str(project / "nowhere"), "log"])
    assert exit_info.value.code == 1
    assert "No redun config found" in capsys.readouterr().err


def test_redun_run_creates_a_new_repository(project: Path) -> None:
    from redun.cli import RedunClient

    @task()
    def mul(a: int, b: int) -> int:
        return a * b

    config_dir = project / "fresh" / ".redun"
    assert redun.run(mul(6, 7), config_dir=str(config_dir)) == 42
    assert (config_dir / "redun.ini").exists() and (config_dir / "redun.db").exists()
    client = RedunClient(stdout=io.StringIO())
    client.execute(["redun", "-c", str(config_dir), "log", "--job"])
    assert any("mul(6, 7)" in line for line in client.stdout.getvalue().splitlines())


def test_redun_cli_imports_nothing_until_used() -> None:
    code = textwrap.dedent(
        """
        import sys
        import redun.cli
        assert "click" not in sys.modules, "click"
        from redun.cli import RedunClient, setup_scheduler
        assert "sqlalchemy" not in sys.modules, "sqlalchemy"
        assert "boto3" not in sys.modules
        """
    )
    env = {**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_execute_on_a_postgresql_repository(project: Path, script: str, db_uri: str) -> None:
    from redun.cli import RedunClient

    config_dir = project / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text(f"[backend]\ndb_uri = {db_uri}\nautomigrate = true\n")
    client = RedunClient(stdout=io.StringIO())
    assert client.execute(["redun", "run", script, "main", "--x", "2"]) == {"sum": 12, "x": 2}
    # A rerun is cached, and the repository shows both executions.
    assert client.execute(["redun", "run", script, "main", "--x", "2"]) == {"sum": 12, "x": 2}
    client.stdout = io.StringIO()
    client.execute(["redun", "log", "--exec"])
    assert len([line for line in client.stdout.getvalue().splitlines() if "Exec " in line]) == 2


SETUP_WITH_DOC = """
from redun import Scheduler


def setup(config, profile: str = "default", workers: int = 1, queue=None) -> Scheduler:
    return Scheduler(config=config)
"""


def test_setup_help_lists_the_setup_options(project: Path) -> None:
    from redun.cli import RedunClient, setup_scheduler

    config_dir = project / ".redun"
    client = RedunClient(stdout=io.StringIO())
    setup_scheduler(str(config_dir))
    # Without a setup_scheduler function there is nothing to set.
    assert client.execute(["redun", "--setup-help"]) is None
    assert client.stdout.getvalue() == "redun --setup <option>=<value> ...\n"

    (config_dir / "setup.py").write_text(SETUP_WITH_DOC)
    ini = config_dir / "redun.ini"
    ini.write_text(ini.read_text() + "\n[scheduler]\nsetup_scheduler = setup.py::setup\n")
    client.stdout = io.StringIO()
    client.execute(["redun", "-c", str(config_dir), "--setup-help"])
    assert client.stdout.getvalue().splitlines() == [
        "redun --setup <option>=<value> ...",
        "  --setup profile=PROFILE (default: default)",
        "  --setup workers=WORKERS (default: 1)",
        "  --setup queue=QUEUE (default: None)",
    ]
