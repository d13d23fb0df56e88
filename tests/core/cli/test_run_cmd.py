"""`redun run`: arguments from signatures, options, errors, records, as a user types them."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.cli.main import cli

WORKFLOW = '''
import enum
import threading
from typing import Optional

from redun import File, get_context, task

redun_namespace = "{ns}"


class Color(enum.Enum):
    red = 1
    blue = 2


@task()
def add(a: int, b: float = 0.5) -> float:
    """Add two numbers."""
    return a + b


@task()
def describe(
    name: str,
    flag: bool = False,
    color: Color = Color.red,
    nums: list[int] = [],
    maybe: Optional[int] = None,
) -> str:
    return f"{{name}}|{{flag}}|{{color.name}}|{{sum(nums)}}|{{maybe}}"


@task()
def read(path: File) -> str:
    return path.read()


@task()
def fail(x: int) -> int:
    raise ValueError(f"broken {{x}}")


@task()
def thread_name() -> str:
    return threading.current_thread().name


@task()
def ctx(value: str = get_context("greeting.word", "none")) -> str:
    return value


@task()
def untyped(x):
    return x * 2
'''


@pytest.fixture
def workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workflow file, uniquely named, in a fresh project directory that is the cwd."""
    name = f"wf_{uuid.uuid4().hex[:12]}"
    path = tmp_path / f"{name}.py"
    path.write_text(WORKFLOW.format(ns=name))
    monkeypatch.chdir(tmp_path)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_runs_a_task_and_prints_the_result_last(workflow: Path) -> None:
    result = run("run", workflow.name, "add", "--a", "2")
    assert result.exit_code == 0, result.output
    assert last_line(result) == "2.5"
    assert (workflow.parent / ".redun" / "redun.db").exists()


def test_typed_arguments(workflow: Path) -> None:
    result = run(
        "run",
        workflow.name,
        "describe",
        "--name",
        "x",
        "--flag",
        "true",
        "--color",
        "blue",
        "--nums",
        "1",
        "2",
        "3",
        "--maybe",
        "7",
    )
    assert result.exit_code == 0, result.output
    assert last_line(result) == "'x|True|blue|6|7'"
    result = run("run", workflow.name, "describe", "--name", "y", "--flag", "--color", "Color.red")
    assert last_line(result) == "'y|True|red|0|None'"
    assert last_line(run("run", workflow.name, "untyped", "--x", "ab")) == "'abab'"


def test_file_argument(workflow: Path) -> None:
    (workflow.parent / "data.txt").write_text("contents")
    result = run("run", workflow.name, "read", "--path", "data.txt")
    assert last_line(result) == "'contents'"


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "--a", "two"], "task '{ns}.add': invalid value 'two' for --a: expected int"),
        (["add"], "task '{ns}.add' needs --a (see 'redun run FILE {ns}.add help')"),
        (
            ["add", "--a", "1", "--c", "3"],
            "task '{ns}.add' has no argument '--c' (arguments: --a, --b)",
        ),
        (["describe", "--name", "x", "--color", "green"], "expected one of red, blue"),
        (
            ["describe", "--name", "x", "--flag", "maybe"],
            "invalid value 'maybe' for --flag: expected bool",
        ),
        (["nope"], 'Unknown task "nope"'),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(
    workflow: Path, args: list[str], message: str
) -> None:
    result = run("run", workflow.name, *args)
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1
    assert message.format(ns=workflow.stem) in error_lines[0]
    assert "Traceback" not in result.output


def test_listing_and_help(workflow: Path) -> None:
    listed = run("run", workflow.name).stdout.split()
    assert f"{workflow.stem}.add" in listed and f"{workflow.stem}.describe" in listed
    assert not any(name.startswith("redun.") for name in listed)
    assert run("run", workflow.name, "help").stdout.split() == listed
    text = run("run", workflow.name, "add", "help").stdout
    assert f"Usage: redun run FILE {workflow.stem}.add --a A [--b B]" in text
    assert "Add two numbers." in text and "--b float (default: 0.5)" in text
    info = run("run", workflow.name, "add", "info").stdout
    assert "def add(a: int, b: float = 0.5)" in info


def test_missing_workflow_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("run", "nothere.py", "main")
    assert result.exit_code == 1
    assert result.output.strip().endswith("Error: No such workflow file: nothere.py")


def test_workflow_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken_wf.py").write_text("x = 1\nundefined_name\n")
    result = run("run", "broken_wf.py", "main")
    assert result.exit_code == 1
    assert (
        f"cannot import broken_wf.py at {tmp_path / 'broken_wf.py'}:2: NameError" in result.output
    )


def test_failing_task_exits_non_zero_with_task_traceback(workflow: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "redun"), "run", workflow.name, "fail", "--x", "3"],
        capture_output=True,
        text=True,
        cwd=workflow.parent,
        env={**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 1
    assert "*** Execution failed. Traceback (most recent task last):" in proc.stderr
    assert "ValueError: broken 3" in proc.stderr
    assert proc.stdout == ""


def test_cache_no_cache_and_dryrun(workflow: Path) -> None:
    first = run("run", workflow.name, "add", "--a", "1")
    assert "Run    Job" in first.output
    cached = run("run", workflow.name, "add", "--a", "1")
    assert "Cached Job" in cached.output and last_line(cached) == "1.5"
    forced = run("run", "--no-cache", workflow.name, "add", "--a", "1")
    assert "Run    Job" in forced.output and "Cached Job" not in forced.output
    assert run("run", "--dryrun", workflow.name, "add", "--a", "1").exit_code == 0
    assert run("run", "--dryrun", workflow.name, "add", "--a", "5").exit_code == 1


def test_task_option_and_context(workflow: Path) -> None:
    result = run("run", "-o", "executor=process", workflow.name, "thread_name")
    assert result.exit_code == 0, result.output
    assert "on process" in result.output
    assert last_line(run("run", workflow.name, "ctx")) == "'none'"
    assert last_line(run("run", "--context", "greeting.word=hi", workflow.name, "ctx")) == "'hi'"
    (workflow.parent / "ctx.json").write_text('{"greeting": {"word": "hey"}}')
    assert last_line(run("run", "--context-file", "ctx.json", workflow.name, "ctx")) == "'hey'"
    (workflow.parent / "bad.json").write_text("{oops")
    bad = run("run", "--context-file", "bad.json", workflow.name, "ctx")
    assert bad.exit_code == 1 and "--context-file bad.json:1: invalid JSON" in bad.output


def test_tags_project_user_execution_id_are_recorded(workflow: Path) -> None:
    from redun.backends.db import RedunBackendDb
    from redun.backends.db.models import Execution

    result = run(
        "run",
        "-t",
        "stage=test",
        "-t",
        "n=3",
        "-p",
        "proj",
        "-u",
        "alice",
        "--execution-id",
        "exec-fixed-id",
        workflow.name,
        "add",
        "--a",
        "1",
    )
    assert result.exit_code == 0, result.output
    backend = RedunBackendDb(db_uri=f"sqlite:///{workflow.parent / '.redun' / 'redun.db'}")
    backend.load()
    execution = backend.session.get(Execution, "exec-fixed-id")
    assert execution is not None
    tags = backend.get_tags(["exec-fixed-id"])["exec-fixed-id"]
    assert tags["stage"] == ["test"] and tags["n"] == [3]
    assert tags["project"] == ["proj"] and tags["user"] == ["alice"]
    assert "redun.version" in tags
    backend.close()


def _execution_tags(workflow: Path, execution_id: str) -> dict:
    from redun.backends.db import RedunBackendDb

    backend = RedunBackendDb(db_uri=f"sqlite:///{workflow.parent / '.redun' / 'redun.db'}")
    backend.load()
    try:
        return backend.get_tags([execution_id])[execution_id]
    finally:
        backend.close()


def test_git_commit_and_origin_of_the_workflow_checkout_are_tags(
    workflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDUN_GIT_COMMIT", raising=False)
    monkeypatch.delenv("REDUN_GIT_ORIGIN_URL", raising=False)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for args in (
        ["init", "-q"],
        ["remote", "add", "origin", "https://example.com/wf.git"],
        ["add", workflow.name],
        ["commit", "-qm", "wf"],
    ):
        subprocess.run(git + args, cwd=workflow.parent, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workflow.parent, capture_output=True, text=True
    ).stdout.strip()
    result = run("run", "--execution-id", "in-git", workflow.name, "add", "--a", "1")
    assert result.exit_code == 0, result.output
    tags = _execution_tags(workflow, "in-git")
    assert tags["git_commit"] == [commit]
    assert tags["git_origin_url"] == ["https://example.com/wf.git"]

    # Outside a checkout there are no git tags; the environment overrides git.
    shutil.rmtree(workflow.parent / ".git")
    monkeypatch.setenv("REDUN_GIT_COMMIT", "abc123")
    result = run("run", "--execution-id", "no-git", workflow.name, "add", "--a", "1")
    assert result.exit_code == 0, result.output
    tags = _execution_tags(workflow, "no-git")
    assert tags["git_commit"] == ["abc123"] and "git_origin_url" not in tags


def test_input_pickle_and_rerun(workflow: Path) -> None:
    (workflow.parent / "in.pkl").write_bytes(pickle.dumps(([4], {"b": 1.0})))
    result = run("run", "--input", "in.pkl", workflow.name, "add")
    assert last_line(result) == "5.0"
    rerun = run("run", "--rerun", "-", workflow.name, "add")
    assert rerun.exit_code == 0, rerun.output
    assert "Cached Job" in rerun.output and last_line(rerun) == "5.0"
    missing = run("run", "--input", "nope.pkl", workflow.name, "add")
    assert missing.exit_code == 1 and "--input: no such file nope.pkl" in missing.output


def test_no_prov_records_nothing(workflow: Path) -> None:
    run("run", workflow.name, "add", "--a", "1")
    result = run("run", "--no-prov", workflow.name, "add", "--a", "9")
    assert last_line(result) == "9.5"
    again = run("run", "--no-prov", workflow.name, "add", "--a", "9")
    assert "Cached Job" not in again.output


def test_setup_scheduler_with_typed_setup_args(workflow: Path) -> None:
    config_dir = workflow.parent / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text("[scheduler]\nsetup_scheduler = setup.py::make\n")
    (config_dir / "setup.py").write_text(
        textwrap.dedent(
            """
            from redun import Scheduler

            def make(config, workers: int = 1):
                scheduler = Scheduler(config=config)
                scheduler.limits["workers_seen"] = workers
                print("setup workers", workers)
                return scheduler
            """
        )
    )
    result = run("-s", "workers=4", "run", workflow.name, "add", "--a", "1")
    assert result.exit_code == 0, result.output
    assert "setup workers 4" in result.stdout
    bad = run("-s", "cores=4", "run", workflow.name, "add", "--a", "1")
    assert bad.exit_code == 1 and "make takes no 'cores' (takes: workers)" in bad.output


def test_library_run_reports_setup_errors_without_click(workflow: Path) -> None:
    """`redun.run()` builds its scheduler like `redun run`, but its errors are redun's."""
    import click
    import redun
    from redun.scheduler import SchedulerError

    config_dir = workflow.parent / ".redun"
    config_dir.mkdir()
    (config_dir / "redun.ini").write_text("[scheduler]\nsetup_scheduler = missing.py::make\n")
    with pytest.raises(SchedulerError, match="no such file") as raised:
        redun.run(redun.task(name="never_run")(lambda: 1)(), config_dir=str(config_dir))
    assert not isinstance(raised.value, click.ClickException)
    result = run("run", workflow.name, "add", "--a", "1")
    assert result.exit_code == 1
    assert "[scheduler] setup_scheduler: no such file" in result.output


def test_dotted_module_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg_run_mod"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flow.py").write_text(
        "from redun import task\n"
        "redun_namespace = 'pkgflow'\n"
        "@task()\n"
        "def main(x: int = 1):\n"
        "    return x + 1\n"
    )
    monkeypatch.chdir(tmp_path)
    result = run("run", "pkg_run_mod.flow", "main", "--x", "41")
    assert last_line(result) == "42"


DRYRUN_WORKFLOW = """
from redun import File, task

redun_namespace = "{ns}"


@task()
def write(path: str, n: int) -> File:
    out = File(path)
    out.write(str(n) + "{suffix}")
    return out


@task()
def main(n: int = 3) -> File:
    return write("out.txt", n)
"""


def test_dryrun_names_the_reason_for_each_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    name = f"dry_{uuid.uuid4().hex[:12]}"
    script = tmp_path / f"{name}.py"

    def write_workflow(suffix: str) -> None:
        script.write_text(DRYRUN_WORKFLOW.format(ns=name, suffix=suffix))

    first_lines: list[str] = []

    def misses(*args: str) -> list[str]:
        """Each miss's precise reason: the line under redun's, where redun logs one."""
        result = run("run", "--dryrun", script.name, "main", *args)
        assert result.exit_code == 1, result.output
        lines = result.output.splitlines() + [""]
        reasons = []
        for line, following in zip(lines, lines[1:]):
            if "Miss   Job" in line:
                first_lines.append(line.split(":  ", 1)[1])
                detail = following.removeprefix("[redun]")
                reasons.append(detail.strip() if detail.startswith("   ") else first_lines[-1])
        return reasons

    write_workflow("")
    assert run("run", script.name, "main").exit_code == 0
    assert misses("--n", "5") == ["New arguments: n changed (3 --> 5)."]
    assert first_lines[-1].startswith(f"Existing task '{name}.main()' is called with new arguments")
    (tmp_path / "out.txt").write_text("edited")
    assert misses()[0].startswith(
        "Cached result is no longer valid: File output 'out.txt' changed."
    )
    (tmp_path / "out.txt").unlink()
    assert misses()[0].startswith(
        "Cached result is no longer valid: File output 'out.txt' vanished."
    )
    assert run("run", script.name, "main").exit_code == 0
    write_workflow("!")
    (reason,) = misses()
    assert reason.startswith(f"New task code for '{name}.write' (task_hash ")


def test_dryrun_says_when_the_previous_identical_call_failed(workflow: Path) -> None:
    assert run("run", workflow.name, "fail", "--x", "1").exit_code == 1
    result = run("run", "--dryrun", workflow.name, "fail", "--x", "1")
    assert result.exit_code == 1, result.output
    (miss,) = [line for line in result.output.splitlines() if "Miss   Job" in line]
    assert miss.split(":  ", 1)[1].startswith("Previous identical call ")
    assert miss.endswith("failed; errors are not reused from the cache.")


FREEZE_PROBE = """
import gc
from redun import task

redun_namespace = "freeze_probe"


@task()
def frozen() -> int:
    return gc.get_freeze_count()
"""


def test_only_the_redun_command_freezes_its_startup_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI keeps startup objects out of GC passes, but never in a host process."""
    import gc

    (tmp_path / "probe.py").write_text(FREEZE_PROBE)
    monkeypatch.chdir(tmp_path)
    redun = Path(sys.executable).parent / "redun"
    proc = subprocess.run(
        [str(redun), "run", "--no-cache", "probe.py", "frozen"],
        capture_output=True,
        text=True,
        env={**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip().splitlines()[-1]) > 10_000

    before = gc.get_freeze_count()
    result = run("run", "--no-cache", "probe.py", "frozen")
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == before
