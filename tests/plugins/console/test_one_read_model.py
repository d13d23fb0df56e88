"""Every consumer of the read model tells the same story about the same jobs (issue 14).

One repository, filled through the CLI as a user fills it: jobs that succeed,
fail (twice), come from the cache, and have their cached result invalidated
(an output File edited), next to jobs that run for new code and for a changed
File input (a root job: the Files inside a cached expression keep the hash
they were recorded with). Then `redun log`, `redun explain`, `redun run --dryrun` (asked
just before the same run) and the console's job screen must show the same
status and the same reason for each job. A run killed in the middle of a job an
hour ago is STOPPED in `redun log`, `redun explain` and the console's
executions list alike, and so are the jobs it was in the middle of (job lines,
job screen, jobs list and its status filter).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.backends.db import RedunBackendDb
from redun.cli.main import cli
from redun.plugins.manager import reset_plugin_manager
from redun.utils import get_import_paths
from redun_console.app import RedunConsole
from redun_console.screens.job import JobScreen

from tests.helpers.aging import age_execution

WORKFLOW = """
from redun import File, task

redun_namespace = "{ns}"


@task()
def square(x: int) -> int:
    return x * x


@task()
def count(file: File) -> int:
    return len(file.read())


@task()
def write(path: str, text: str) -> File:
    out = File(path)
    out.write(text)
    return out


@task()
def shout(text: str) -> str:
    return text.upper() + "{suffix}"


@task()
def fail(x: int) -> int:
    raise ValueError(f"no {{x}}")


@task()
def main() -> list:
    return [square(3), write("out.txt", "hello"), shout("hi")]


@task()
def nap(seconds: float, flag: str) -> float:
    import time

    open(flag, "w").close()
    time.sleep(seconds)
    return seconds


@task()
def long(flag: str) -> list:
    return [square(4), nap(600.0, flag)]
"""
MISS = re.compile(r"Miss\s+Job (\w+):\s+(.*)$")
JOB = re.compile(r"^\s*Job (\w{8}) \[(.{6})\] .*?:  ([\w.]+)\(")


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ns = f"one_{uuid.uuid4().hex[:10]}"
        self.config_dir = root / ".redun"
        self.config_dir.mkdir()
        (self.config_dir / "redun.ini").write_text(
            f"[backend]\ndb_uri = sqlite:///{self.config_dir}/redun.db\n"
        )
        self.script = root / f"{self.ns}.py"
        self.write_workflow("")

    def write_workflow(self, suffix: str) -> None:
        self.script.write_text(WORKFLOW.format(ns=self.ns, suffix=suffix))

    def redun(self, *args: str) -> Result:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(cli, ["-c", str(self.config_dir), *args])
        finally:
            os.chdir(cwd)

    def run(self, *args: str, code: int = 0) -> tuple[str, Result]:
        result = self.redun("run", *args)
        assert result.exit_code == code, result.output
        execution_id = re.search(r"Start Execution ([0-9a-f-]{36})", result.stderr).group(1)
        return execution_id, result

    def dryrun_reasons(self, *args: str) -> dict[str, str]:
        """{task full name: miss reason} from `redun run --dryrun`."""
        result = self.redun("run", "--dryrun", self.script.name, *args)
        assert result.exit_code == 1, result.output
        tasks = dict(re.findall(r"Run\s+Job (\w+):\s+([\w.]+)\(", result.stderr))
        found = {}
        lines = result.stderr.splitlines()
        for number, line in enumerate(lines):
            miss = MISS.search(line)
            if miss:
                reason = miss.group(2)
                following = lines[number + 1] if number + 1 < len(lines) else ""
                continued = re.match(r"^\[redun\]  +(\S.*)$", following)
                if continued:
                    # redun's wording first; the precise reason follows, indented.
                    reason = continued.group(1)
                found[_task_of(line, result.stderr, miss.group(1), tasks)] = reason
        return found

    def killed_run(self) -> str:
        """A run SIGKILLed in the middle of a job, an hour ago: its execution id."""
        flag = self.root / "napping"
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "redun"), "-c", str(self.config_dir), "run"]
            + [self.script.name, "long", "--flag", str(flag)],
            cwd=self.root,
            env={**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not flag.exists():
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the run never reached its long job"
                time.sleep(0.05)
            time.sleep(1.5)  # the job starts are written within about a second
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            process.stderr.close()
        backend = RedunBackendDb(f"sqlite:///{self.config_dir}/redun.db")
        backend.load()
        try:
            [execution] = backend.reader().list_executions(tasks=[f"{self.ns}.long"])
            age_execution(backend.engine, execution.id)
        finally:
            backend.close()
        return execution.id


def _task_of(line: str, text: str, job_prefix: str, tasks: dict[str, str]) -> str:
    if job_prefix in tasks:
        return tasks[job_prefix]
    # A Miss line comes before its job's Run line; find the job's task by its id.
    found = re.search(rf"Job {job_prefix}\w*:\s+([\w.]+)\(", text)
    assert found, f"no task named for job {job_prefix} in:\n{text}"
    return found.group(1)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.setenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    reset_plugin_manager()
    saved = get_import_paths()[:]
    yield Project(tmp_path)
    get_import_paths()[:] = saved
    reset_plugin_manager()


def _console_executions(project: Project) -> dict[str, str]:
    """{execution id prefix: status} as the console's executions list shows them."""
    import asyncio

    from redun_console.widgets import LinkTable

    from tests.plugins.console.helpers import rows

    backend = RedunBackendDb(f"sqlite:///{project.config_dir}/redun.db")
    backend.load()
    shown: dict[str, str] = {}

    async def main() -> None:
        app = RedunConsole(backend, "executions", poll_interval=0, screens=())
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            shown.update((row[0], row[1]) for row in rows(app.screen.query_one(LinkTable)))

    try:
        asyncio.run(main())
    finally:
        backend.close()
    return shown


def _console_screen(project: Project, job_id: str) -> tuple[str, str]:
    """(status, reason) as the console's job screen shows them."""
    import asyncio

    from tests.plugins.console.helpers import widget_text

    backend = RedunBackendDb(f"sqlite:///{project.config_dir}/redun.db")
    backend.load()
    shown: dict[str, str] = {}

    async def main() -> None:
        app = RedunConsole(backend, f"jobs/{job_id}", poll_interval=0, screens=())
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, JobScreen)
            shown["summary"] = widget_text(app.screen.query_one("#summary"))
            shown["reason"] = widget_text(app.screen.query_one("#reason"))

    try:
        asyncio.run(main())
    finally:
        backend.close()
    status = re.search(rf"Job {job_id}  (\w+)", shown["summary"]).group(1)
    return status, shown["reason"].removeprefix("Why: ")


def _console_jobs(project: Project, route: str) -> dict[str, str]:
    """{job id prefix: status} as the console's jobs list on `route` shows them."""
    import asyncio

    from redun_console.screens.jobs import COLUMNS
    from redun_console.widgets import LinkTable

    from tests.plugins.console.helpers import rows

    backend = RedunBackendDb(f"sqlite:///{project.config_dir}/redun.db")
    backend.load()
    shown: dict[str, str] = {}
    status = COLUMNS.index("Status")

    async def main() -> None:
        app = RedunConsole(backend, route, poll_interval=0, screens=())
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            shown.update((row[0], row[status]) for row in rows(app.screen.query_one(LinkTable)))

    try:
        asyncio.run(main())
    finally:
        backend.close()
    return shown


def _console_status_table(project: Project, execution_id: str) -> dict[str, dict[str, str]]:
    """{task: {column: count}} as the console's execution screen counts the jobs."""
    import asyncio

    from textual.widgets import DataTable

    from tests.plugins.console.helpers import rows

    backend = RedunBackendDb(f"sqlite:///{project.config_dir}/redun.db")
    backend.load()
    shown: dict[str, dict[str, str]] = {}

    async def main() -> None:
        app = RedunConsole(backend, f"executions/{execution_id}", poll_interval=0, screens=())
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#statuses", DataTable)
            names = [str(column.label) for column in table.ordered_columns]
            shown.update({row[0]: dict(zip(names[1:], row[1:])) for row in rows(table)})

    try:
        asyncio.run(main())
    finally:
        backend.close()
    return shown


def test_log_explain_dryrun_and_console_agree(project: Project) -> None:
    (project.root / "in.txt").write_text("abc")
    name = project.script.name
    project.run(name, "main")
    project.run(name, "count", "--file", "in.txt")
    project.run(name, "fail", "--x", "1", code=1)

    # Change what the second run sees: new code, a changed input, an edited output.
    project.write_workflow("!")
    (project.root / "in.txt").write_text("abcd")
    (project.root / "out.txt").write_text("edited")
    dry = {
        **project.dryrun_reasons("main"),
        **project.dryrun_reasons("count", "--file", "in.txt"),
        **project.dryrun_reasons("fail", "--x", "1"),
    }
    runs = [
        project.run(name, "main")[0],
        project.run(name, "count", "--file", "in.txt")[0],
        project.run(name, "fail", "--x", "1", code=1)[0],
    ]
    killed = project.killed_run()

    # redun log: status of every job of both runs.
    logged = {}
    for execution in runs:
        result = project.redun("log", "--job", "--exec-id", execution)
        assert result.exit_code == 0, result.output
        for line in result.stdout.splitlines():
            job = JOB.match(line)
            logged[job.group(1)] = (job.group(3), job.group(2).strip())
    # redun explain: status and reason of the same jobs.
    explained = {}
    for execution in runs:
        result = project.redun("explain", execution, "--format", "json")
        assert result.exit_code == 0, result.output
        for line in result.stdout.splitlines():
            row = json.loads(line)
            explained[row["job_id"]] = (row["task_name"], row["status"], row["message"])

    ns = project.ns
    statuses = {task: status for task, status, _ in explained.values()}
    assert statuses == {
        f"{ns}.main": "CACHED",
        f"{ns}.square": "CACHED",
        f"{ns}.count": "DONE",
        f"{ns}.write": "DONE",
        f"{ns}.shout": "DONE",
        f"{ns}.fail": "FAILED",
    }
    reasons = {task: message for task, status, message in explained.values()}
    assert reasons[f"{ns}.count"] == "File input 'in.txt' changed."
    assert reasons[f"{ns}.write"] == (
        "Cached result is no longer valid: File output 'out.txt' changed."
    )
    assert reasons[f"{ns}.shout"].startswith(f"New task code for '{ns}.shout' (task_hash ")
    assert reasons[f"{ns}.fail"].startswith("Previous identical call ")

    for job_id, (task, status, message) in explained.items():
        log_task, log_status = logged[job_id[:8]]
        shown_status = "RUNNING" if log_status == "RUN" else log_status
        assert (log_task, shown_status) == (task, status), job_id
        assert _console_screen(project, job_id) == (status, message), task
        if status != "CACHED":
            # The dryrun just before this run gave the reason the record gives now.
            assert dry[task] == message, task
    assert set(dry) == {f"{ns}.{name}" for name in ("count", "write", "shout", "fail")}

    # Executions: redun log, the execution line of redun explain and the console's list.
    result = project.redun("log")
    assert result.exit_code == 0, result.output
    exec_line = re.compile(r"^Exec (\w{8}) \[(.{6})\]")
    log_statuses = {
        found.group(1): found.group(2).strip()
        for found in map(exec_line.match, result.stdout.splitlines())
        if found
    }
    explain_statuses = {}
    for execution in [*runs, killed]:
        result = project.redun("explain", execution)
        assert result.exit_code == 0, result.output
        found = exec_line.match(result.stdout.splitlines()[0])
        explain_statuses[found.group(1)] = found.group(2).strip()
    shown = {"RUNNING": "RUN", "STOPPED": "STOP"}
    console_statuses = {
        prefix: shown.get(status, status) for prefix, status in _console_executions(project).items()
    }
    assert log_statuses[killed[:8]] == "STOP"
    assert [log_statuses[e[:8]] for e in runs] == ["DONE", "DONE", "FAILED"]
    assert console_statuses == log_statuses
    assert explain_statuses == {e[:8]: log_statuses[e[:8]] for e in [*runs, killed]}
    filtered = project.redun("log", "--exec-status", "STOPPED")
    assert [m.group(1) for m in map(exec_line.match, filtered.stdout.splitlines()) if m] == [
        killed[:8]
    ]

    # The jobs of the killed run: the one it was in the middle of, and the ones done.
    result = project.redun("explain", killed, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    result = project.redun("log", "--job", "--exec-id", killed)
    logged = {
        job.group(1): job.group(2).strip()
        for job in map(JOB.match, result.stdout.splitlines())
        if job
    }
    by_task = {row["task_name"]: row["status"] for row in rows}
    # The jobs it was in the middle of died with it: STOPPED, not RUNNING forever.
    assert by_task == {f"{ns}.long": "STOPPED", f"{ns}.nap": "STOPPED", f"{ns}.square": "DONE"}
    listed = _console_jobs(project, f"executions/{killed}/jobs")
    for row in rows:
        assert shown.get(row["status"], row["status"]) == logged[row["job_id"][:8]]
        assert _console_screen(project, row["job_id"]) == (row["status"], row["message"])
        assert listed[row["job_id"][:8]] == row["status"]
    stopped = {row["job_id"][:8] for row in rows if row["status"] == "STOPPED"}
    assert set(_console_jobs(project, f"executions/{killed}/jobs?status:stopped")) == stopped
    assert _console_jobs(project, f"executions/{killed}/jobs?status:running") == {}
    result = project.redun("log", "--job", "--exec-id", killed, "--job-status", "STOPPED")
    assert result.exit_code == 0, result.output
    assert {job.group(1) for job in map(JOB.match, result.stdout.splitlines()) if job} == stopped

    # The per-task counts: redun log's status table and the console's, a STOPPED column.
    result = project.redun("log", killed)
    assert result.exit_code == 0, result.output
    table = [line.split() for line in result.stdout.splitlines() if line.startswith("| ")]
    table = [row for row in table if len(row) > 1]  # a blank line follows the header
    header = table[1][1:]
    assert header == ["TASK", "PENDING", "RUNNING", "STOPPED", "FAILED", "CACHED", "DONE", "TOTAL"]
    counts = {row[1]: dict(zip(header[1:], map(int, row[2:]))) for row in table[2:]}
    zero = dict.fromkeys(header[1:], 0)
    assert counts == {
        "ALL": {**zero, "STOPPED": 2, "DONE": 1, "TOTAL": 3},
        f"{ns}.long": {**zero, "STOPPED": 1, "TOTAL": 1},
        f"{ns}.nap": {**zero, "STOPPED": 1, "TOTAL": 1},
        f"{ns}.square": {**zero, "DONE": 1, "TOTAL": 1},
    }
    console = _console_status_table(project, killed)
    assert {
        task: {name: int(count) for name, count in cells.items()} for task, cells in console.items()
    } == {task: {k: v for k, v in c.items() if k != "PENDING"} for task, c in counts.items()}
    # A run that never stopped keeps redun's columns.
    result = project.redun("log", runs[0])
    header = [line.split() for line in result.stdout.splitlines() if line.startswith("| ")][1]
    assert header[1:] == ["TASK", "PENDING", "RUNNING", "FAILED", "CACHED", "DONE", "TOTAL"]
