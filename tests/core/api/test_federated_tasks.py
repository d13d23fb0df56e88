"""Federated tasks: [federated_tasks.*] entry points, federated_configs, REST, Lambda, launch."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from redun import Scheduler
from redun.backends.db import Execution, Job
from redun.config import Config, ConfigError, load_config
from redun.federated_tasks import (
    FederatedTaskConfigError,
    InvocationException,
    federated_task,
    lambda_federated_task,
    launch_federated_task,
    rest_federated_task,
)
from redun.scheduler import SchedulerError
from redun.utils import pickle_loads

from tests.core.files.http_server import serve

ROOT = Path(__file__).resolve().parents[3]
MODULE = "tests.core.api.federated_workflow"
BIN = str(Path(sys.executable).parent)


@pytest.fixture(autouse=True)
def redun_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launched commands run `redun run ...` with this checkout's redun and test modules."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(ROOT)


def entry(config_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "namespace": "api_fed",
        "task_name": "add",
        "load_module": MODULE,
        "executor": "process",
        "config_dir": str(config_dir),
        "description": "Adds two numbers",
        **extra,
    }


@pytest.fixture
def provider(tmp_path: Path) -> Path:
    """The repository that publishes entry point `sample` (its own database and executors)."""
    directory = tmp_path / "provider"
    directory.mkdir()
    sections = {
        "backend": {"db_uri": "sqlite:///provider.db"},
        "executors.default": {"type": "local"},
        "executors.process": {"type": "local", "mode": "process"},
        "federated_tasks.sample": entry(directory, new_execution="True"),
    }
    config = Config(sections)
    with open(directory / "redun.ini", "w") as out:
        config.parser.write(out)
    return directory


def provider_jobs(provider: Path) -> list[tuple[str, str, bool]]:
    scheduler = Scheduler(config=load_config(provider))
    scheduler.load()
    session = scheduler.backend.session
    return [
        (job.execution_id, job.task.fullname, job.cached)
        for job in session.query(Job).order_by(Job.start_time)
    ]


def caller(tmp_path: Path, **sections: Any) -> Scheduler:
    config = Config(
        {
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'caller.db'}"},
            "executors.process": {"type": "local", "mode": "process"},
            **sections,
        }
    )
    return Scheduler(config=config)


# -- federated_task ------------------------------------------------------------------------


def test_federated_task_runs_the_entry_point_in_its_repository(
    tmp_path: Path, provider: Path
) -> None:
    sample = entry(provider, new_execution="True")
    scheduler = caller(tmp_path, **{"federated_tasks.sample": sample})
    assert scheduler.run(federated_task("sample", 3)) == 6
    assert scheduler.run(federated_task("sample", 3, y=8)) == 11
    assert scheduler.run(federated_task("sample", x=4, y=8)) == 12
    # The entry point's jobs are recorded in its repository, in executions of their own.
    jobs = provider_jobs(provider)
    assert [name for _, name, _ in jobs] == ["api_fed.add"] * 3
    assert len({execution for execution, _, _ in jobs}) == 3
    # Only results of the same execution are reused (the code is not visible here), so
    # the entry point runs again, and its own repository's cache answers.
    assert scheduler.run(federated_task("sample", 3)) == 6
    assert provider_jobs(provider)[-1][1:] == ("api_fed.add", True)


def test_federated_configs_import_entry_points_and_executors(
    tmp_path: Path, provider: Path
) -> None:
    main = tmp_path / "main"
    main.mkdir()
    (main / "redun.ini").write_text(
        f"[backend]\ndb_uri = sqlite:///main.db\n[scheduler]\nfederated_configs = {provider}\n"
    )
    config = load_config(main)
    assert config["executors"]["process"]["mode"] == "process"
    scheduler = Scheduler(config=config)
    assert scheduler.run(federated_task("sample", 10, y=5)) == 15


def test_relative_federated_configs_as_redun_reads_them(
    tmp_path: Path, provider: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = tmp_path / "main"
    main.mkdir()
    (main / "redun.ini").write_text("[scheduler]\nfederated_configs = provider\n")
    monkeypatch.chdir(tmp_path)  # redun reads a relative entry from the working directory
    assert "sample" in load_config(main)["federated_tasks"]
    (main / "redun.ini").write_text("[scheduler]\nfederated_configs = ../provider\n")
    monkeypatch.chdir(ROOT)  # not there: our rule, relative to the config dir
    assert "sample" in load_config(main)["federated_tasks"]
    (main / "redun.ini").write_text("[scheduler]\nfederated_configs = missing\n")
    with pytest.raises(ConfigError, match="federated_configs: no redun.ini in 'missing'"):
        load_config(main)


def test_federated_task_in_the_callers_own_execution(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "redun.ini").write_text(f"[backend]\ndb_uri = sqlite:///{tmp_path / 'caller.db'}\n")
    scheduler = caller(tmp_path, **{"federated_tasks.mine": entry(own)})
    assert scheduler.run(federated_task("mine", 1, y=1)) == 2
    session = scheduler.backend.session
    names = {job.task.fullname: job for job in session.query(Job)}
    assert names["api_fed.add"].parent_job.task.fullname == "redun.subrun_root_task"
    assert session.query(Execution).count() == 1


def test_entry_point_errors(tmp_path: Path, provider: Path) -> None:
    scheduler = caller(tmp_path, **{"federated_tasks.sample": entry(provider)})
    with pytest.raises(AssertionError, match="Could not find the entrypoint `wrong_task`"):
        scheduler.run(federated_task("wrong_task", 3))
    broken = {key: value for key, value in entry(provider).items() if key != "executor"}
    scheduler = caller(tmp_path, **{"federated_tasks.sample": broken})
    with pytest.raises(FederatedTaskConfigError) as info:
        scheduler.run(federated_task("sample", 4))
    assert str(info.value).startswith(
        "Federated task entry `sample` does not have the required keys, missing `{'executor'}`"
    )
    bad = entry(provider, executor="bad_executor", new_execution="true")
    scheduler = caller(tmp_path, **{"federated_tasks.sample": bad})
    with pytest.raises(SchedulerError, match='Unknown executor "bad_executor"'):
        scheduler.run(federated_task("sample", 4))


# -- REST ---------------------------------------------------------------------------------------


class Proxy(BaseHTTPRequestHandler):
    """A REST proxy: POST /launch starts the entry point, POST /refuse answers 500."""

    requests: list[tuple[str, dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        self.requests.append((self.path, dict(fields)))
        if self.path != "/launch":
            self.send_error(500, "proxy is down")
            return
        fields["federated_config_path"] = fields.pop("config_name")
        execution_id = launch_federated_task(**fields)
        body = json.dumps({"execution_id": execution_id}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    Proxy.requests = []
    with serve(Proxy) as url:
        yield url


def test_rest_federated_task_posts_to_a_proxy_that_launches_it(
    tmp_path: Path, provider: Path, proxy: str
) -> None:
    scratch = tmp_path / "scratch"
    result_path = tmp_path / "out.txt"
    scheduler = caller(tmp_path)
    execution_id, request = scheduler.run(
        rest_federated_task(
            str(provider), "sample", f"{proxy}/launch", str(scratch), False,
            2, y=9, result_path=str(result_path),
        )
    )  # fmt: skip
    assert request == {
        "config_name": str(provider),
        "entrypoint": "sample",
        "input_path": str(scratch / "execution" / execution_id / "input"),
        "execution_id": execution_id,
        "cache": True,
    }
    assert pickle_loads(Path(request["input_path"]).read_bytes()) == [
        (2,),
        {"y": 9, "result_path": str(result_path)},
    ]
    # Form-encoded, as redun posts it.
    [(path, fields)] = Proxy.requests
    assert (path, fields) == ("/launch", {**request, "cache": "True"})
    # The proxy's launch ran `redun run` on the provider's executor, under that id.
    assert result_path.read_text() == "11\n"
    jobs = provider_jobs(provider)
    assert jobs == [(execution_id, "api_fed.add", False)]


def test_rest_dryrun_packages_without_posting(tmp_path: Path, proxy: str) -> None:
    scheduler = caller(tmp_path)
    _, request = scheduler.run(
        rest_federated_task("cfg", "sample", f"{proxy}/launch", str(tmp_path), True, 1)
    )
    assert Path(request["input_path"]).exists()
    assert Proxy.requests == []


def test_rest_refusals_and_unreachable_proxies_are_one_line_errors(
    tmp_path: Path, proxy: str
) -> None:
    scheduler = caller(tmp_path)
    with pytest.raises(InvocationException) as info:
        scheduler.run(rest_federated_task("c", "e", f"{proxy}/refuse", str(tmp_path), False))
    assert str(info.value) == f"POST {proxy}/refuse was refused: HTTP 500 proxy is down"
    with socket_bound_and_closed() as port:
        with pytest.raises(InvocationException, match=r"POST http://127.0.0.1:\d+/ failed: "):
            scheduler.run(
                rest_federated_task("c", "e", f"http://127.0.0.1:{port}/", str(tmp_path), False)
            )


class socket_bound_and_closed:
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def __exit__(self, *exc: Any) -> None:
        pass


# -- launch_federated_task ------------------------------------------------------------------------


def test_launch_federated_task_with_arguments_and_cache_off(tmp_path: Path, provider: Path) -> None:
    result_path = tmp_path / "launched.txt"
    kwargs = {"y": 1, "result_path": str(result_path)}
    first = launch_federated_task(str(provider), "sample", (4,), kwargs)
    again = launch_federated_task(str(provider), "sample", (4,), kwargs)
    uncached = launch_federated_task(
        str(provider), "sample", (4,), kwargs, execution_id="my-id", cache=False
    )
    assert uncached == "my-id" and len({first, again, uncached}) == 3
    # Run, cached (the task did not run again), then forced to run by --no-cache.
    assert result_path.read_text() == "5\n5\n"
    assert provider_jobs(provider) == [
        (first, "api_fed.add", False),
        (again, "api_fed.add", True),
        ("my-id", "api_fed.add", False),
    ]
    with pytest.raises(ValueError, match="needs input_path, or task_args as a tuple"):
        launch_federated_task(str(provider), "sample", [4], {})


# -- Lambda ----------------------------------------------------------------------------------------


@pytest.fixture
def lambda_function(moto: Any) -> str:
    """A function on moto's server that answers with the event it received."""
    import io
    import zipfile

    import boto3

    request = urllib.request.Request(
        f"{moto.endpoint}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=30).close()
    role = boto3.client("iam").create_role(RoleName="proxy", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("proxy.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda", region_name="us-west-2").create_function(
        FunctionName="redun-proxy",
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="proxy.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return "redun-proxy"


def test_lambda_federated_task_invokes_the_function_on_moto(
    tmp_path: Path, moto: Any, lambda_function: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redun")
    scheduler = caller(tmp_path)
    before = moto.calls().get("lambda:post", 0)
    execution_id, request = scheduler.run(
        lambda_federated_task("cfg", "sample", lambda_function, str(tmp_path), False, 8, y=9)
    )
    assert moto.calls()["lambda:post"] == before + 1
    assert request["execution_id"] == execution_id and request["cache"] is True
    answered = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Lambda ")]
    assert answered == [f"Lambda {lambda_function} answered {json.dumps(request)}"]
    assert pickle_loads(Path(request["input_path"]).read_bytes()) == [(8,), {"y": 9}]
    # A dry run packages the input and calls nothing.
    scheduler.run(lambda_federated_task("cfg", "s", lambda_function, str(tmp_path), True))
    assert moto.calls()["lambda:post"] == before + 1


def test_lambda_without_boto3_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` fails
    scheduler = caller(tmp_path)
    with pytest.raises(InvocationException, match="needs boto3.*: pip install redun-aws"):
        scheduler.run(lambda_federated_task("cfg", "e", "fn", str(tmp_path), False))


def test_importing_federated_tasks_imports_no_cloud_sdk() -> None:
    code = (
        "import sys, redun.federated_tasks\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
