"""`redun log` against a repository filled by really running workflows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redun.cli.main import cli
from redun.plugins.manager import reset_plugin_manager
from redun.testing.postgres import PostgresServer, postgres_server  # noqa: F401
from redun.utils import get_import_paths

WORKFLOW = """
from redun import File, task

redun_namespace = "{ns}"


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def write(path: str, text: str) -> File:
    file = File(path)
    file.write(text)
    return file


@task()
def count(file: File) -> int:
    return len(file.read())


@task()
def boom(x: int) -> int:
    raise ValueError(f"bad {{x}}")


@task()
def main(n: int = 3) -> list:
    out = write("out.txt", "ab" * n)
    return [add(n, 1), add(n, 2), count(out), out]


@task()
def failing(n: int = 1) -> int:
    return boom(n)
"""

JOB_LINE = re.compile(
    r"^Job [0-9a-f]{8} \[(?: DONE |CACHED|FAILED| RUN  )\] "
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:  \S+\(.*\) (\(.*\))?$"
)
EXEC_LINE = re.compile(
    r"^Exec [0-9a-f]{8} \[(?: DONE |FAILED| RUN  )\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:  run .*$"
)


class Project:
    """A project directory with a workflow and a repository it was run in."""

    def __init__(self, root: Path, config: str = "sqlite:///redun.db") -> None:
        self.root = root
        self.ns = f"wf_{uuid.uuid4().hex[:10]}"
        self.config_dir = root / ".redun"
        self.config_dir.mkdir(parents=True)
        (self.config_dir / "redun.ini").write_text(
            f"[backend]\ndb_uri = {config}\nautomigrate = true\n"
        )
        self.script = root / f"{self.ns}.py"
        self.script.write_text(WORKFLOW.format(ns=self.ns))

    def redun(self, *args: str) -> Result:
        """`redun -c CONFIG ARGS` in-process, from the project directory."""
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(cli, ["-c", str(self.config_dir), *args])
        finally:
            os.chdir(cwd)

    def run(self, *args: str) -> Result:
        result = self.redun("run", self.script.name, *args)
        return result

    def log(self, *args: str) -> list[str]:
        result = self.redun("log", *args)
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()


def int_value(project: Project, number: int) -> str:
    """The short hash of a recorded int, as `redun log --value-type` lists it."""
    lines = project.log("--value-type", "builtins.int")
    return next(line.split()[1] for line in lines if line.endswith(f" {number} "))


def fill(project: Project) -> dict[str, str]:
    """Run main (fresh), failing, then main again (all cached); return the execution ids."""
    ids = {}
    for name, args, code in [
        ("first", ("main", "--n", "3"), 0),
        ("failed", ("failing",), 1),
        ("cached", ("main", "--n", "3"), 0),
    ]:
        tag = ["--tag", "env=prod"] if name == "cached" else ["--tag", "env=dev"]
        if name == "failed":
            tag += ["--doc", "Nightly check.\nSecond line."]
        result = project.redun("run", *tag, project.script.name, *args)
        assert result.exit_code == code, result.output
        ids[name] = re.search(r"Start Execution ([0-9a-f-]{36})", result.stderr).group(1)
    return ids


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict[str, str]]]:
    with pytest.MonkeyPatch.context() as patch:
        # Module scope runs before the per-test core-only setting: apply it here too.
        patch.setenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", "1")
        reset_plugin_manager()
        saved_sys_path, saved_import_paths = sys.path[:], get_import_paths()[:]
        project = Project(tmp_path_factory.mktemp("logrepo"))
        ids = fill(project)
    reset_plugin_manager()
    yield project, ids
    # The workflow stays imported for this module's tests; later modules see a clean path.
    sys.path[:] = saved_sys_path
    get_import_paths()[:] = saved_import_paths


def test_recent_executions_keep_redun_line_shapes(filled: tuple[Project, dict]) -> None:
    project, ids = filled
    lines = project.log()
    assert lines[:2] == ["Recent executions:", ""]
    assert len(lines) == 5
    assert all(EXEC_LINE.match(line) for line in lines[2:]), lines
    # Newest first, with the command line and the execution tags.
    assert lines[2].startswith(f"Exec {ids['cached'][:8]} [ DONE ] ")
    assert f":  run {project.script.name} main --n 3 (" in lines[2] and lines[2].endswith(")")
    assert "env=prod" in lines[2] and f"project={project.ns}" in lines[2]
    assert lines[3].startswith(f"Exec {ids['failed'][:8]} [FAILED] ")
    assert lines[4].startswith(f"Exec {ids['first'][:8]} [ DONE ] ")


def test_jobs_and_statuses(filled: tuple[Project, dict]) -> None:
    project, _ = filled
    jobs = project.log("--job")
    assert all(JOB_LINE.match(line) for line in jobs), jobs
    ns = project.ns
    cached = [line for line in jobs if "[CACHED] " in line]
    assert len(cached) == len(jobs) - 7 and len(cached) >= 5
    assert [line.split("  ", 1)[1] for line in project.log("--job-status", "FAILED")] == [
        f"{ns}.boom(1) ",
        f"{ns}.failing(n=1) ",
    ]
    # A status filter alone selects jobs; combined statuses are comma separated.
    assert len(project.log("--job-status", "FAILED,CACHED")) == 2 + len(cached)
    adds = project.log("--task-name", f"{ns}.add")
    assert len(project.log("--job", "--exec-id", "~3")) == 5
    assert len(adds) == 4 and all(f"{ns}.add(3, " in line for line in adds)
    assert project.log("--job", "--task-name", "add") == adds
    assert project.log("--exec-status", "FAILED")[0].startswith("Exec ")
    assert len(project.log("--exec-status", "DONE")) == 2


def test_other_record_types(filled: tuple[Project, dict]) -> None:
    project, _ = filled
    ns = project.ns
    nodes = project.log("--call-node")
    assert {line.split()[0] for line in nodes} == {"CallNode"}
    assert f"CallNode {nodes[0].split()[1]} {ns}." in nodes[0]
    tasks = project.log("--task")
    assert sorted(line.split()[2] for line in tasks) == sorted(
        f"{ns}.{name}" for name in ["add", "boom", "count", "failing", "main", "write"]
    )
    ints = project.log("--value-type", "builtins.int")
    assert all(re.match(r"^Value [0-9a-f]{8} builtins\.int \d+ $", line) for line in ints), ints
    assert project.log("--file") == [f"File {project.log('--file')[0].split()[1]} out.txt "]
    files = project.log("--file-path", "out*")
    assert len(files) == 1 and files[0].startswith("Value ") and "redun.File" in files[0]
    counts = project.log("--all", "--count")
    assert [line.split()[1] for line in counts] == ["Execution", "Job", "CallNode", "Task", "Value"]
    assert counts[0].split()[0] == "3" and counts[1].split()[0] == str(len(project.log("--job")))
    assert project.log("--count") == ["Recent executions:", "", "       3 Execution"]


def test_execution_and_value_filters(filled: tuple[Project, dict]) -> None:
    project, ids = filled
    failed_jobs = project.log("--job", "--exec-id", ids["failed"][:8])
    assert len(failed_jobs) == 2
    assert project.log("--exec", "--exec-id", "-") == project.log("--exec")[:1]
    assert len(project.log("--job", "--exec-id", "~2,~3")) == 7
    assert project.log("--exec", "-t", "env=prod")[0].startswith(f"Exec {ids['cached'][:8]}")
    assert len(project.log("--exec", "-t", "env")) == 3
    assert len(project.log("--job", "--exec-tag", "env=dev")) == 7
    # Values by hash prefix: the result 4 of add(3, 1) and the argument 3.
    four = int_value(project, 4)
    assert [line.split("  ", 1)[1] for line in project.log("--result", four)] == [
        f"{project.ns}.add(3, 1) "
    ] * 2
    three = int_value(project, 3)
    assert len(project.log("--arg", three)) == 6  # add twice and main, in both runs


def test_json_lines(filled: tuple[Project, dict]) -> None:
    project, ids = filled
    execs = [json.loads(line) for line in project.log("--format", "json")]
    assert [record["id"] for record in execs] == [ids["cached"], ids["failed"], ids["first"]]
    assert {record["_type"] for record in execs} == {"Execution"}
    jobs = [
        json.loads(line)
        for line in project.log("--job", "--job-status", "FAILED", "--format", "json")
    ]
    assert [job["status"] for job in jobs] == ["FAILED", "FAILED"]
    assert json.loads(project.log("-", "--format", "json")[0])["id"] == ids["cached"]
    (file_record,) = [json.loads(line) for line in project.log("out.txt", "--format", "json")]
    assert file_record["subtype"] == {"_type": "File", "path": "out.txt"}


def test_execution_detail(filled: tuple[Project, dict]) -> None:
    project, ids = filled
    lines = project.log("~2")
    assert lines[0].startswith(f"Exec {ids['failed']} [FAILED] ")
    assert re.match(r"^Duration: \d+:\d\d:\d\d\.\d\d$", lines[1])
    assert lines[2:5] == ["Nightly check.", "Second line.", ""]
    assert lines[5].startswith("| JOB STATUS ")
    assert "Jobs: 2 (DONE: 0, CACHED: 0, FAILED: 2)" in lines
    tree = lines[lines.index("-" * 80) + 1 :]
    assert tree[0].startswith("Job ") and tree[0].endswith(f"{project.ns}.failing(n=1) ")
    assert tree[1].startswith("  Job ") and tree[1].endswith(f"{project.ns}.boom(1) ")
    assert project.log(ids["failed"][:8]) == lines
    assert project.log("-")[0].startswith(f"Exec {ids['cached']} [ DONE ]")
    detailed = project.log("--exec", "--detail")
    assert detailed.count("-" * 80) == 3


def test_job_detail_with_traceback(filled: tuple[Project, dict]) -> None:
    project, _ = filled
    boom = project.log("--job-status", "FAILED")[0].split()[1]
    lines = project.log(boom)
    assert lines[0].startswith(f"Job {boom}") and lines[0].endswith(f"{project.ns}.boom(1) ")
    assert re.match(
        rf"^Traceback: Exec [0-9a-f]{{8}} > Job [0-9a-f]{{8}} failing > Job {boom} boom$", lines[1]
    )
    assert "    Args:   1" in lines
    assert "    Raised: ValueError('bad 1')" in lines
    assert "  Traceback:" in lines
    assert lines[-1] == "  ValueError: bad 1"
    assert any('raise ValueError(f"bad {x}")' in line for line in lines)


def test_done_job_call_node_and_task_detail(filled: tuple[Project, dict]) -> None:
    project, ids = filled
    add = project.log("--job", "--exec-id", ids["first"], "--task-name", "add")[-1].split()[1]
    lines = project.log(add)
    assert re.match(r"^Duration: ", lines[2])
    assert "    Args:   3, 1" in lines and "    Result: 4" in lines
    assert any(line.startswith("  Task ") for line in lines)
    assert "        return a + b" in lines
    call_node = [line for line in lines if line.startswith("  CallNode ")][0].split()[1]
    node_lines = project.log(call_node[:10])
    assert node_lines[0] == f"CallNode {call_node} {project.ns}.add "
    assert node_lines[3] == "  Parent CallNodes:"
    task_hash = [line for line in lines if line.startswith("  Task ")][0].split()[1]
    task_lines = project.log(task_hash[:8])
    assert task_lines[0] == f"Task {task_hash} {project.ns}.add "
    assert task_lines[1].startswith("  First Job ")
    # A task name shows every version of the task.
    assert project.log("add")[0] == task_lines[0]


def test_value_and_file_detail(filled: tuple[Project, dict]) -> None:
    project, _ = filled
    four = int_value(project, 4)
    lines = project.log(four)
    assert lines[:3] == [f"Value {four} builtins.int ", "4", ""]
    assert lines[3] == "Produced by:"
    # Then how it was derived (redun.backends.db.dataflow), as redun's `redun log` shows it.
    assert lines[6:10] == ["", "Upstream dataflow:", "", "  value = 4"]
    assert lines[11].startswith("  value <-- <") and lines[11].endswith("> add(a, b)")
    file_lines = project.log("out.txt")
    assert file_lines[0].startswith("File ") and file_lines[0].endswith(" out.txt ")
    consumed = file_lines[
        file_lines.index("Consumed by:") + 1 : file_lines.index("Upstream dataflow:") - 1
    ]
    assert len(consumed) == 2 and all(
        f"{project.ns}.count(File(path=out.txt" in line for line in consumed
    )
    produced = file_lines[file_lines.index("Produced by:") + 1 : file_lines.index("Consumed by:")]
    assert any(f"{project.ns}.write('out.txt', 'ababab')" in line for line in produced)
    flow = file_lines[file_lines.index("Upstream dataflow:") :]
    assert flow[2] == "  value = File(path=out.txt, hash=" + file_lines[0].split()[1] + ")"
    assert flow[4].endswith("> write(path, text)")
    assert project.log(file_lines[0].split()[1]) == file_lines


@pytest.mark.parametrize(
    "args, message",
    [
        (["zzzz"], "No record matches 'zzzz'"),
        (["~9"], "Execution index too high: ~9"),
        (["~0"], "Execution index must be >= 1"),
        (["--job-status", "BOGUS"], "Unknown job status 'BOGUS': use one of RUNNING"),
        (["--exec-status", "CACHED"], "Unknown execution status 'CACHED'"),
        (["-t", "=x"], "Bad --tag filter: "),
        (["--exec-tag", "=x"], "Bad --exec-tag filter: "),
        (["--exec-id", "nope"], "--exec-id nope: nothing recorded has this id"),
        (["--result", "ffffffff"], "--result ffffffff: nothing recorded"),
        (["--arg", "zz"], "--arg zz: nothing recorded"),
        (["--task-hash", "zz"], "--task-hash zz: nothing recorded"),
    ],
)
def test_bad_input_is_one_line(filled: tuple[Project, dict], args: list[str], message: str) -> None:
    project, _ = filled
    result = project.redun("log", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_ambiguous_prefix_and_unknown_option(filled: tuple[Project, dict]) -> None:
    project, _ = filled
    hexdigits = "0123456789abcdef"
    # Some one-character prefix matches many records.
    results = [project.redun("log", prefix) for prefix in hexdigits]
    ambiguous = [r for r in results if "is ambiguous" in r.stderr]
    assert ambiguous and all(r.exit_code == 1 for r in ambiguous)
    assert "give more characters" in ambiguous[0].stderr
    result = project.redun("log", "-x")
    assert result.exit_code == 2 and "No such option '-x'" in result.stderr


def test_subprocess_with_pipe(filled: tuple[Project, dict]) -> None:
    """A user's script piping `redun log` (no pager, no terminal)."""
    project, ids = filled
    env = {**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    redun = str(Path(sys.executable).parent / "redun")
    out = subprocess.run(
        [redun, "-c", str(project.config_dir), "log", "--exec", "--exec-status", "FAILED"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[0].startswith(f"Exec {ids['failed'][:8]} [FAILED]")
    bad = subprocess.run(
        [redun, "-c", str(project.config_dir), "log", "nothing-like-this"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("Error: No record matches")


def test_postgres_repository(tmp_path: Path, postgres_server: PostgresServer) -> None:  # noqa: F811
    project = Project(tmp_path, config=postgres_server.create_database())
    ids = fill(project)
    lines = project.log()
    assert [line.split()[1] for line in lines[2:]] == [
        ids["cached"][:8],
        ids["failed"][:8],
        ids["first"][:8],
    ]
    assert len(project.log("--job", "--exec-id", ids["first"])) == 5
    assert project.log("~2")[0].startswith(f"Exec {ids['failed']} [FAILED]")
    assert project.log("out.txt")[0].endswith(" out.txt ")
    prefix_result = project.redun("log", ids["first"][:6])
    assert prefix_result.exit_code == 0


def test_empty_repository(tmp_path: Path) -> None:
    project = Project(tmp_path)
    assert project.log() == ["Recent executions:", ""]
    assert project.log("--job", "--count") == ["       0 Job"]
    result = project.redun("log", "-")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: No executions recorded yet: run a workflow with 'redun run' first.\n"
    )


def test_pager_on_a_terminal(filled: tuple[Project, dict]) -> None:
    """On a terminal the listing goes through $PAGER; --no-pager prints it directly."""
    import pty

    project, ids = filled
    redun = str(Path(sys.executable).parent / "redun")
    env = {**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1", "TERM": "xterm"}
    for pager, flags in [("sed s/^Exec/PAGED/", []), ("false", ["--no-pager"])]:
        master, slave = pty.openpty()
        try:
            done = subprocess.run(
                [redun, "-c", str(project.config_dir), "log", "--exec", *flags],
                cwd=project.root,
                env={**env, "PAGER": pager},
                stdin=slave,
                stdout=slave,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
            os.close(slave)
            chunks = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
        finally:
            os.close(master)
        assert done.returncode == 0, done.stderr
        shown = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
        first = "PAGED" if not flags else "Exec"
        assert shown[0].startswith(f"{first} {ids['cached'][:8]} [ DONE ]"), shown
