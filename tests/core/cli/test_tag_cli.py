"""`redun tag list|add|update|rm|history` on a repository filled by real runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.cli.test_log_cli import Project, fill


@pytest.fixture
def project(tmp_path: Path) -> tuple[Project, dict[str, str]]:
    project = Project(tmp_path)
    return project, fill(project)


def tag(project: Project, *args: str) -> list[str]:
    result = project.redun("tag", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_add_update_rm_keep_redun_shapes(project: tuple[Project, dict]) -> None:
    repo, ids = project
    first = ids["first"]
    assert tag(repo, "add", first[:8], "owner=alice", "n=3") == [
        f'add tag Execution:{first} owner="alice" n=3'
    ]
    assert tag(repo, "update", first[:8], "owner=bob") == [
        f'update tag Execution:{first} owner="bob"'
    ]
    # The tags show in `redun log` lines and select records there.
    line = repo.log("--exec", "-t", "owner=bob")
    assert len(line) == 1 and "n=3" in line[0] and "owner=bob" in line[0]
    assert repo.log("--exec", "-t", "owner=alice") == []
    assert tag(repo, "rm", first[:8], "n=3") == [f"delete tag Execution:{first} n=3"]
    assert tag(repo, "rm", first[:8], "owner") == [f'delete tag Execution:{first} owner="bob"']
    assert tag(repo, "rm", first[:8], "owner") == [f"No matching tags on Execution:{first}."]
    history = tag(repo, "history", first[:8])
    assert history[0] == f"Tag history of Execution:{first}"
    states = {line.split()[1]: " ".join(line.split()[2:]) for line in history[1:]}
    assert states["owner=alice"].startswith("replaced by ")
    assert states["owner=bob"] == "deleted" and states["n=3"] == "deleted"
    assert states["env=dev"] == "current"


def test_every_record_kind_and_id_form(project: tuple[Project, dict]) -> None:
    repo, ids = project
    assert tag(repo, "add", "-", "a=1")[0] == f"add tag Execution:{ids['cached']} a=1"
    assert tag(repo, "add", "~3", "a=2")[0] == f"add tag Execution:{ids['first']} a=2"
    job = repo.log("--job-status", "FAILED")[0].split()[1]
    (line,) = tag(repo, "add", job, "triage=true")
    assert line.startswith(f"add tag Job:{job}") and line.endswith(" triage=true")
    task_hash = repo.log("--task", "--task-name", "boom")[0].split()[1]
    # A task is stored as a value with the same hash; the tag goes on the Task.
    assert tag(repo, "add", task_hash, "owner=ops")[0].startswith(f"add tag Task:{task_hash}")
    assert tag(repo, "add", "boom", "level=2")[0].startswith(f"add tag Task:{task_hash}")
    (line,) = tag(repo, "add", "out.txt", 'meta={"k": [1, 2]}')
    assert line.startswith("add tag Value:") and line.endswith(' meta={"k": [1, 2]}')
    node = repo.log("--call-node")[0].split()[1]
    assert tag(repo, "add", node, "x=1.5")[0].startswith(f"add tag CallNode:{node}")
    # Several ids at once.
    lines = tag(repo, "add", "-", "~2", "batch=7")
    assert [line.split()[2].split(":")[0] for line in lines] == ["Execution", "Execution"]

    listing = tag(repo, "list")
    assert listing[0] == "Tags:"
    rows = {line.split()[0]: line.split(None, 1)[1] for line in listing[1:]}
    assert rows["a"] == "(2 Execution)"
    assert rows["env"] == "(3 Execution)"
    assert rows["owner"] == "(1 Task)" and rows["triage"] == "(1 Job)"
    values = tag(repo, "list", "--values")
    assert any(line.split()[0] == "env=dev" and "(2 Execution)" in line for line in values)
    selected = tag(repo, "list", "triage")
    assert len(selected) == 1 and selected[0].startswith(f"Job {job[:8]} [FAILED] ")
    assert tag(repo, "list", "batch=7", "env=prod") == repo.log("--exec")[:1]
    assert tag(repo, "list", "nothing=here") == []


def test_rm_tells_ids_from_keys(project: tuple[Project, dict]) -> None:
    repo, ids = project
    tag(repo, "add", "-", "~2", "k=1", "other=2")
    lines = tag(repo, "rm", "-", "~2", "k", "other=2")
    assert lines == [
        f"delete tag Execution:{ids['cached']} k=1 other=2",
        f"delete tag Execution:{ids['failed']} k=1 other=2",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "zzzz", "a=1"], "No record matches 'zzzz'"),
        (["add", "~9", "a=1"], "Execution index too high: ~9"),
        (["add", "-"], "Give record ids, then tags: redun tag add ID... KEY=VALUE..."),
        (["add", "-", "=x"], "Bad tag '=x': "),
        (["update", "-", "=1"], "Bad tag '=1': "),
        (["rm", "-"], "Give record ids, then tags: redun tag rm ID... KEY[=VALUE]..."),
        (["rm", "nothing", "a"], "No record matches 'nothing'"),
        (["history", "zzzz"], "No record matches 'zzzz'"),
        (["list", "=v"], "Bad tag '=v': "),
    ],
)
def test_errors_are_one_line(project: tuple[Project, dict], args: list[str], message: str) -> None:
    repo, _ = project
    result = repo.redun("tag", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ambiguous_prefix_and_task_name(project: tuple[Project, dict]) -> None:
    repo, _ = project
    # The repository holds far more than 16 records, so some one-character prefix
    # names two of them whatever the random ids are.
    results = [repo.redun("tag", "add", prefix, "a=1") for prefix in "0123456789abcdef"]
    ambiguous = [r for r in results if "is ambiguous" in r.stderr]
    assert ambiguous and all(r.exit_code == 1 for r in ambiguous)
    # A task name that is not also a hex id prefix ("add" is one: an id starting
    # with "add" made this test fail now and then).
    repo.script.write_text(
        repo.script.read_text().replace("return len(file.read())", "return (len(file.read()))")
    )
    assert repo.run("main", "--n", "3").exit_code == 0
    result = repo.redun("tag", "add", "count", "a=1")
    assert result.exit_code == 1
    assert "Task name 'count' has 2 versions: give the task hash" in result.stderr


def test_subprocess(project: tuple[Project, dict]) -> None:
    repo, ids = project
    out = subprocess.run(
        [str(Path(sys.executable).parent / "redun"), "-c", str(repo.config_dir)]
        + ["tag", "add", "-", "via=shell"],
        cwd=repo.root,
        env={**os.environ, "REDUN_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == f'add tag Execution:{ids["cached"]} via="shell"\n'
