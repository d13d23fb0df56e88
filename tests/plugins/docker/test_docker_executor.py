"""Docker executor specifics with real containers: resources, env, images, config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from redun.executors.base import ExecutorError
from redun.scheduler import Scheduler

REDUN = str(Path(sys.executable).parent / "redun")

WORKFLOW = """
import os
from redun.task import task

redun_namespace = "dockertest"

@task
def memory_limit(label):
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        if os.path.exists(path):
            with open(path) as infile:
                return int(infile.read())
    return None

@task
def getenv(names):
    return {name: os.environ.get(name) for name in names}
"""


@pytest.fixture
def wf(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    workdir = tmp_path_factory.mktemp("dockerwf")
    (workdir / "docker_test_workflow.py").write_text(WORKFLOW)
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    import docker_test_workflow

    return docker_test_workflow


def scheduler(tmp_path: Path, image: str, **section: str) -> Scheduler:
    return Scheduler(
        config={
            "backend": {"db_uri": "sqlite:///:memory:"},
            "executors.box": {
                "type": "docker",
                "image": image,
                "scratch": str(tmp_path / "scratch"),
                "job_monitor_interval": "0.1",
                **section,
            },
        }
    )


@pytest.mark.container
def test_memory_is_a_per_task_resource(tmp_path: Path, containers: str, wf: Any) -> None:
    sched = scheduler(tmp_path, containers, memory="1")
    limits = sched.run(
        [
            wf.memory_limit.options(executor="box")("default"),
            wf.memory_limit.options(executor="box", memory=0.5)("half"),
        ]
    )
    assert limits == [1024**3, 512 * 1024**2]


@pytest.mark.container
def test_env_from_config_task_and_job_env_hook(
    tmp_path: Path, containers: str, wf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("redun_aws", reason="the AWS env forwarding hook comes from redun-aws")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    names = ["FROM_CONFIG", "FROM_TASK", "AWS_DEFAULT_REGION"]
    sched = scheduler(tmp_path, containers, env=json.dumps({"FROM_CONFIG": "c"}))
    env = sched.run(wf.getenv.options(executor="box", env={"FROM_TASK": "t"})(names))
    assert env == {"FROM_CONFIG": "c", "FROM_TASK": "t", "AWS_DEFAULT_REGION": "eu-north-1"}

    sched = scheduler(tmp_path, containers, include_aws_env="false")
    env = sched.run(wf.getenv.options(executor="box")(names + ["x"]))
    assert env["AWS_DEFAULT_REGION"] is None


@pytest.mark.container
def test_cli_is_configurable(tmp_path: Path, containers: str, wf: Any) -> None:
    sched = scheduler(tmp_path, containers, docker="podman")
    assert sched.run(wf.getenv.options(executor="box")(["HOME"])) == {"HOME": "/root"}
    sched = scheduler(tmp_path, containers, docker=str(tmp_path / "no-such-cli"))
    with pytest.raises(ExecutorError, match="no-such-cli' not found; install docker or podman"):
        sched.run(wf.getenv.options(executor="box")(["PATH"]))


@pytest.mark.container
def test_missing_image_fails_the_job_with_docker_error(
    tmp_path: Path, containers: str, wf: Any
) -> None:
    sched = scheduler(tmp_path, containers)
    with pytest.raises(ExecutorError, match="localhost/redun:no-such-image"):
        sched.run(wf.getenv.options(executor="box", image="localhost/redun:no-such-image")([]))


@pytest.mark.container
def test_interactive_job_runs_on_a_terminal(tmp_path: Path, containers: str, wf: Any) -> None:
    """`interactive = true` attaches the container to the terminal (run here under script(1))."""
    runner = tmp_path / "runner.py"
    runner.write_text(
        "import sys\n"
        f"sys.path.insert(0, {os.getcwd()!r})\n"
        "from redun.scheduler import Scheduler\n"
        "import docker_test_workflow as wf\n"
        "config = {'backend': {'db_uri': 'sqlite:///:memory:'}, 'executors.box': {\n"
        f"    'type': 'docker', 'image': {containers!r}, 'interactive': 'true',\n"
        f"    'scratch': {str(tmp_path / 'scratch')!r}, 'job_monitor_interval': '0.1'}}}}\n"
        "env = Scheduler(config=config).run(wf.getenv.options(executor='box')(['TERM']))\n"
        "print('RESULT', env['TERM'] is not None)\n"
    )
    proc = subprocess.run(
        ["script", "-qec", f"{sys.executable} {runner}", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "RESULT True" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "section, message",
    [
        ({"scratch": ""}, r"\[executors.box\] needs `scratch`"),
        ({"scratch": "s3://bucket/x"}, "must be a local directory"),
        ({"volumes": "[1, 2"}, r"\[executors.box\] volumes is not valid JSON"),
        ({"volumes": '[["a"]]'}, r"list of \[host, container\] pairs"),
        ({"job_monitor_interval": "often"}, "job_monitor_interval = 'often' is not a number"),
        ({"code_package": "maybe"}, "code_package = 'maybe' is not a boolean"),
        ({"min_array_size": "-1"}, r"\[executors.box\] min_array_size must be >= 0"),
    ],
)
def test_bad_config_is_one_line_error(
    tmp_path: Path, section: dict[str, str], message: str
) -> None:
    with pytest.raises(ExecutorError, match=message):
        scheduler(tmp_path, "localhost/redun:test", **section)


@pytest.mark.container
def test_launch_detached_and_waiting(tmp_path: Path, containers: str) -> None:
    subprocess.run([REDUN, "init"], cwd=tmp_path, check=True, capture_output=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    with open(tmp_path / ".redun/redun.ini", "a") as ini:
        ini.write(
            f"\n[executors.box]\ntype = docker\nimage = {containers}\nscratch = scratch\n"
            f"volumes = {json.dumps([[str(shared), str(shared)]])}\n"
        )
    (tmp_path / "hello.py").write_text("print('hello from the code package')\n")

    def launch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [REDUN, "launch", "--executor", "box", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )

    proc = launch("--wait", "--code-package", "python3", "hello.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello from the code package\n"

    proc = launch("sh", "-c", f"echo detached > {shared}/out")
    assert proc.returncode == 0, proc.stderr
    container_id = proc.stdout.split()[-1]
    subprocess.run(["docker", "wait", container_id], check=True, capture_output=True)
    subprocess.run(["docker", "rm", container_id], check=True, capture_output=True)
    assert (shared / "out").read_text() == "detached\n"
