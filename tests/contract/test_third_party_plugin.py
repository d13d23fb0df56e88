"""A third-party plugin distribution, pip-installed, adds a command and an executor."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCE = ROOT / "tests" / "data" / "redun-hello-plugin"
REDUN = str(Path(sys.executable).parent / "redun")

WORKFLOW = """
import threading
from redun import task

redun_namespace = "hello_wf"


@task(executor="inline")
def where() -> str:
    return threading.current_thread().name


@task()
def where_default() -> str:
    return threading.current_thread().name


@task()
def main() -> list:
    return [where(), where_default()]
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the plugin into its own target directory (not the shared venv)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN_SOURCE),
        ],
        check=True,
    )
    return target


def redun(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env.pop("REDUN_DISABLE_PLUGIN_AUTOLOAD", None)
    return subprocess.run([REDUN, *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_plugin_is_listed_with_its_distribution(installed: Path, tmp_path: Path) -> None:
    proc = redun(installed, tmp_path, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)["plugins"]}
    assert plugins["hello"]["distribution"] == "redun-hello-plugin"
    assert plugins["hello"]["version"] == "1.0.0"
    assert plugins["hello"]["hooks"] == [
        "redun_command_options",
        "redun_commands",
        "redun_executors",
    ]


def test_plugin_command_runs_with_cli_state(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".redun").mkdir()
    (tmp_path / ".redun" / "redun.ini").write_text("[executors.fast]\ntype = inline\n")
    assert "Greet from a third-party plugin." in redun(installed, tmp_path, "--help").stdout
    proc = redun(installed, tmp_path, "hello", "world")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello world; executors: fast\n"


def test_plugin_executor_runs_tasks(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".redun").mkdir()
    (tmp_path / ".redun" / "redun.ini").write_text(
        textwrap.dedent(
            """
            [executors.inline]
            type = inline
            greeting = hi-
            """
        )
    )
    (tmp_path / "hello_wf.py").write_text(WORKFLOW)
    proc = redun(installed, tmp_path, "run", "hello_wf.py", "main")
    assert proc.returncode == 0, proc.stderr
    assert "on inline" in proc.stderr
    inline, default = eval(proc.stdout.strip().splitlines()[-1])
    assert inline == "hi-MainThread", "the inline executor runs on the scheduler thread"
    assert default != "MainThread" and not default.startswith("hi-")


def test_unknown_key_of_the_plugin_executor_is_reported(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".redun").mkdir()
    (tmp_path / ".redun" / "redun.ini").write_text(
        "[executors.inline]\ntype = inline\ngreting = x\n"
    )
    proc = redun(installed, tmp_path, "hello", "x")
    assert "[executors.inline] unknown key 'greting' (did you mean 'greeting'?)" in proc.stderr


def test_without_the_plugin_the_executor_type_names_what_is_installed(tmp_path: Path) -> None:
    (tmp_path / ".redun").mkdir()
    (tmp_path / ".redun" / "redun.ini").write_text("[executors.inline]\ntype = inline\n")
    (tmp_path / "hello_wf.py").write_text(WORKFLOW)
    env = {k: v for k, v in os.environ.items() if k != "REDUN_DISABLE_PLUGIN_AUTOLOAD"}
    proc = subprocess.run(
        [REDUN, "run", "hello_wf.py", "main"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert proc.returncode != 0
    assert "No executor type 'inline'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_plugin_option_on_an_existing_command(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".redun").mkdir()
    (tmp_path / ".redun" / "redun.ini").write_text("[executors.inline]\ntype = inline\n")
    (tmp_path / "hello_wf.py").write_text(WORKFLOW)
    assert "--hello-greeting" in redun(installed, tmp_path, "run", "--help").stdout
    proc = redun(installed, tmp_path, "run", "--hello-greeting", "hey-", "hello_wf.py", "main")
    assert proc.returncode == 0, proc.stderr
    inline, _ = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
    assert inline == "hey-MainThread"
