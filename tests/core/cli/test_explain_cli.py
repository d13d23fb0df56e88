"""`redun explain` and the miss reasons of the store's explainer, on workflows really run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from redun.backends.base import CacheQuery
from redun.backends.db import RedunBackendDb
from redun.backends.reasons import MissReason, explain_invalid_result, live_call_args
from redun.cache import CacheCheckValid, CacheScope
from redun.cli.main import cli
from redun.hashing import hash_arguments
from redun.value import get_type_registry

WORKFLOW = """
from redun import File, task

redun_namespace = "{ns}"


@task()
def add(a: int, b: int) -> int:
    return {add_body}


@task()
def write(path: str, text: str) -> File:
    file = File(path)
    file.write(text)
    return file


@task()
def count(file: File) -> int:
    return len(file.read())


@task()
def main(n: int = 3, data: File = File("in.txt")) -> list:
    out = write("out.txt", "ab" * n)
    return [add(n, 1), count(data), count(out)]


@task()
def fragile(x: int) -> int:
    if not __import__("os").path.exists("ok"):
        raise ValueError("not ok")
    return x
"""


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ns = f"wx_{uuid.uuid4().hex[:10]}"
        self.config_dir = root / ".redun"
        self.config_dir.mkdir()
        (self.config_dir / "redun.ini").write_text("[backend]\ndb_uri = sqlite:///redun.db\n")
        self.script = root / f"{self.ns}.py"
        self.write_workflow("a + b")
        (root / "in.txt").write_text("input")

    def write_workflow(self, add_body: str) -> None:
        self.script.write_text(WORKFLOW.format(ns=self.ns, add_body=add_body))

    def redun(self, *args: str) -> Result:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(cli, ["-c", str(self.config_dir), *args])
        finally:
            os.chdir(cwd)

    def run(self, *args: str, code: int = 0) -> None:
        result = self.redun("run", self.script.name, *args)
        assert result.exit_code == code, result.output

    def explain(self, *args: str) -> list[str]:
        result = self.redun("explain", *args)
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()

    def why(self, task: str, record_id: str = "-") -> list[str]:
        """The reasons given for the jobs of `task` in an execution."""
        lines = self.explain(record_id)
        return [
            lines[i + 1].strip()
            for i, line in enumerate(lines)
            if f"{self.ns}.{task}(" in line and i + 1 < len(lines) and "Why: " in lines[i + 1]
        ]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def task_hashes(project: Project, name: str) -> set[str]:
    lines = project.redun("log", "--task", "--task-name", name).stdout.splitlines()
    return {line.split()[1] for line in lines}


def test_first_run_never_ran_before(project: Project) -> None:
    project.run("main")
    lines = project.explain("-")
    assert lines[0].startswith("Exec ") and lines[1].startswith("Job ")
    assert lines[2] == f"  Why: Never run before: no earlier call of task '{project.ns}.main'."
    assert project.why("add") == [
        f"Why: Never run before: no earlier call of task '{project.ns}.add'."
    ]


def test_new_task_code_names_the_previous_hash(project: Project) -> None:
    project.run("main")
    (old_hash,) = task_hashes(project, "add")
    project.write_workflow("(b + a)")
    project.run("main")
    (new_hash,) = task_hashes(project, "add") - {old_hash}
    assert project.why("add") == [
        f"Why: New task code for '{project.ns}.add' (task_hash {old_hash} --> {new_hash}); "
        "same arguments as before."
    ]
    # The parent and the other jobs came from the cache: no reason needed.
    assert len(project.why("main")) == 0 and len(project.why("count")) == 0


def test_new_arguments_name_the_argument(project: Project) -> None:
    project.run("main", "--n", "3")
    project.run("main", "--n", "4")
    assert project.why("main") == ["Why: New arguments: n changed (3 --> 4)."]
    assert project.why("add") == ["Why: New arguments: a changed (3 --> 4)."]
    assert project.why("write") == ["Why: New arguments: text changed ('ababab' --> 'abababab')."]
    # out.txt was rewritten, so count sees a changed File input.
    assert project.why("count") == ["Why: File input 'out.txt' changed."]


def test_file_input_and_output_changes(project: Project) -> None:
    project.run("main")
    (project.root / "in.txt").write_text("new input!")
    project.run("main")
    assert project.why("main") == ["Why: File input 'in.txt' changed."]
    assert project.why("count") == ["Why: File input 'in.txt' changed."]
    (project.root / "out.txt").write_text("tampered")
    project.run("main")
    assert project.why("write") == [
        "Why: Cached result is no longer valid: File output 'out.txt' changed."
    ]


def test_failed_before_and_cache_off(project: Project) -> None:
    project.run("fragile", "--x", "1", code=1)
    (project.root / "ok").write_text("")
    project.run("fragile", "--x", "1")
    (reason,) = project.why("fragile")
    assert reason.startswith("Why: Previous identical call ") and "failed" in reason
    assert reason.endswith("errors are not reused from the cache.")
    result = project.redun("run", "--no-cache", project.script.name, "fragile", "--x", "1")
    assert result.exit_code == 0, result.output
    (reason,) = project.why("fragile")
    assert "caching was off for this job" in reason


def test_single_job_and_json(project: Project) -> None:
    project.run("main", "--n", "3")
    project.run("main", "--n", "3")
    cached = project.redun("log", "--job", "--exec-id", "-", "--task-name", "add").stdout
    job_id = cached.split()[1]
    lines = project.explain(job_id)
    assert lines[0].startswith(f"Job {job_id} [CACHED]")
    assert lines[1].startswith("  Why: Cached: reused call ")
    project.run("main", "--n", "5")
    rows = [json.loads(line) for line in project.explain("-", "--format", "json")]
    by_task = {row["task_name"].split(".")[-1]: row for row in rows}
    assert by_task["main"]["reason"] == "new_args"
    assert by_task["main"]["changed_arguments"] == [{"name": "n", "new": "5", "old": "3"}]
    assert by_task["count"]["files"] in (
        [{"path": "out.txt", "role": "input", "state": "changed"}],
        [],
    )
    assert {row["status"] for row in rows} <= {"DONE", "CACHED"}


def test_errors(project: Project) -> None:
    project.run("main")
    value = project.redun("log", "--value-type", "builtins.int").stdout.split()[1]
    for args, message in [
        (["zzzz"], "No record matches 'zzzz'"),
        (["~5"], "Execution index too high"),
        ([value], "is a Value: redun explain takes an execution or job id"),
        (["out.txt"], "is a File: redun explain takes an execution or job id"),
    ]:
        result = project.redun("explain", *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    result = project.redun("explain")
    assert result.exit_code == 2 and "Missing argument 'EXEC_ID|JOB_ID'" in result.stderr
    result = project.redun("explain", "-", "--format", "xml")
    assert result.exit_code == 2 and "'xml' is not one of 'text', 'json'" in result.stderr
    for n in ("4", "5", "6"):  # more than 16 executions and jobs: some first digit repeats
        project.run("main", "--n", n)
    ambiguous = [
        r for r in (project.redun("explain", digit) for digit in "0123456789abcdef") if r.exit_code
    ]
    assert any("is ambiguous" in r.stderr and "give more characters" in r.stderr for r in ambiguous)


def test_subprocess(project: Project) -> None:
    project.run("main", "--n", "3")
    project.run("main", "--n", "6")
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "redun"),
            "-c",
            str(project.config_dir),
            "explain",
            "~1",
        ],
        cwd=project.root,
        env={**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "  Why: New arguments: n changed (3 --> 6)." in out.stdout.splitlines()


def test_live_reasons_for_a_dryrun(project: Project) -> None:
    """What `redun run --dryrun` asks before a job would run: live values, same reasons."""
    project.run("main", "--n", "3")
    module = sys.modules[project.ns]
    backend = RedunBackendDb(f"sqlite:///{project.config_dir}/redun.db")
    backend.load()
    registry = get_type_registry()

    def explain_call(task: Any, args: tuple) -> MissReason:
        """What the scheduler asks the store before a dryrun job would run."""
        query = CacheQuery(
            task.fullname,
            task.hash,
            hash_arguments(registry, list(args), {}),
            "e" * 40,
            "dryrun",
            {task.hash},
            CacheScope.BACKEND,
            CacheCheckValid.FULL,
        )
        return backend.explain_cache_miss(query, *live_call_args(task, args, {}, registry))

    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        assert explain_call(module.add, (3, 5)).message() == ("New arguments: b changed (1 --> 5).")
        assert explain_call(module.fragile, (1,)).kind == "never_run"
        from redun import File

        (project.root / "in.txt").write_text("edited")
        reason = explain_call(module.count, (File("in.txt"),))
        assert reason.message() == "File input 'in.txt' changed."
        os.remove("in.txt")
        reason = explain_call(module.count, (File("in.txt"),))
        assert reason.message() == "File input 'in.txt' vanished."
        old = File("out.txt")
        old.update_hash()
        os.remove("out.txt")
        assert explain_invalid_result(module.write, old).message() == (
            "Cached result is no longer valid: File output 'out.txt' vanished."
        )
        # An identical call whose recorded output file vanished.
        reason = explain_call(module.write, ("out.txt", "ababab"))
        assert reason.message() == (
            "Cached result is no longer valid: File output 'out.txt' vanished."
        )
    finally:
        os.chdir(cwd)
        backend.close()
