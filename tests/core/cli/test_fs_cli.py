"""`redun fs`: listing schemes, cp (files, trees, stdin/stdout), ls and cat."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result
from redun.cli.main import cli
from redun.file import StagingDir, get_filesystem

from tests.core.files.http_server import serve_directory

REDUN = [sys.executable, "-c", "from redun.cli.main import main; main()"]


def run(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["fs", *args], input=input)


def make_tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.txt").write_text("beta")
    return root


def test_fs_lists_schemes() -> None:
    result = run()
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Supported filesystems:"
    assert {"  local", "  http", "  https"} <= set(lines[1:])


def test_cp_file_to_file_and_into_directory(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    result = run("cp", str(tmp_path / "src" / "a.txt"), str(tmp_path / "out" / "copy.txt"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "copy.txt").read_text() == "alpha"
    result = run("cp", str(tmp_path / "src" / "a.txt"), str(tmp_path / "into") + "/")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "into" / "a.txt").read_text() == "alpha"


def test_cp_recursive(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    result = run("cp", "--recursive", str(tmp_path / "src"), str(tmp_path / "dest"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dest" / "sub" / "b.txt").read_text() == "beta"
    assert (tmp_path / "dest" / "a.txt").read_text() == "alpha"


def test_cp_stdin_and_stdout(tmp_path: Path) -> None:
    result = run("cp", "-", str(tmp_path / "from-stdin.bin"), input=b"\x00bytes\xff")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-stdin.bin").read_bytes() == b"\x00bytes\xff"
    result = run("cp", str(tmp_path / "from-stdin.bin"), "-")
    assert result.exit_code == 0
    assert result.stdout_bytes == b"\x00bytes\xff"


def test_cp_errors_are_one_line(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    result = run("cp", str(tmp_path / "missing.txt"), str(tmp_path / "x"))
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: cannot copy {tmp_path / 'missing.txt'}: No such file or directory\n"
    )
    result = run("cp", str(tmp_path / "src"), str(tmp_path / "x"))
    assert "it is a directory (use --recursive)" in result.output
    result = run("cp", "-r", "-", str(tmp_path / "x"))
    assert result.exit_code == 1 and "--recursive needs a source and a destination" in result.output
    result = run("cp", "-r", str(tmp_path / "src" / "a.txt"), str(tmp_path / "x"))
    assert "not a directory (drop --recursive for files)" in result.output
    result = run("cat", "s3://bucket/key")
    assert result.exit_code == 1
    assert result.output == "Error: No filesystem for scheme 's3': pip install redun-aws\n"


def test_ls(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    result = run("ls", str(root))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(root / "a.txt"), str(root / "sub") + "/"]
    result = run("ls", "-r", str(root))
    assert result.output.splitlines() == [str(root / "a.txt"), str(root / "sub" / "b.txt")]
    assert run("ls", str(root / "*.txt")).output.splitlines() == [str(root / "a.txt")]
    result = run("ls", str(root / "nothing"))
    assert result.exit_code == 1
    assert "cannot list" in result.output and "No such file or directory" in result.output


def test_cat(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    result = run("cat", str(root / "a.txt"), str(root / "sub" / "b.txt"))
    assert result.exit_code == 0
    assert result.stdout_bytes == b"alphabeta"
    result = run("cat", str(root / "nope.txt"))
    assert result.exit_code == 1
    assert result.output == f"Error: cannot read {root / 'nope.txt'}: No such file or directory\n"


def test_shell_copy_commands_run_in_a_real_shell(tmp_path: Path) -> None:
    """Commands rendered for script tasks work end to end: pipes and `redun fs cp -r`."""
    make_tree(tmp_path / "src")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    src, piped = str(tmp_path / "src" / "a.txt"), str(tmp_path / "piped.txt")
    command = (
        f"{get_filesystem('local').shell_copy(src, None)} | {shlex.join(REDUN)} fs cp - {piped}"
    )
    subprocess.run(["sh", "-c", command], check=True, env=env)
    assert (tmp_path / "piped.txt").read_text() == "alpha"
    with serve_directory(tmp_path) as base_url:
        staging = StagingDir(str(tmp_path / "staged"), f"{base_url}/src")
        subprocess.run(["sh", "-c", staging.render_stage()], check=True, env=env)
    assert staging.render_stage().startswith("redun fs cp --recursive http://")
    assert (tmp_path / "staged" / "sub" / "b.txt").read_text() == "beta"
    assert (tmp_path / "staged" / "a.txt").read_text() == "alpha"


def test_redun_fs_cp_through_the_console_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [*REDUN, "fs", "cp", "-", "-"], input=b"round trip", capture_output=True, check=True
    )
    assert result.stdout == b"round trip"
    failed = subprocess.run(
        [*REDUN, "fs", "cat", str(tmp_path / "missing")], capture_output=True, text=True
    )
    assert failed.returncode == 1
    assert failed.stderr.startswith("Error: cannot read") and "Traceback" not in failed.stderr
