"""Shell scripts as tasks, with input/output file staging around them."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from textwrap import dedent
from typing import Any

from redun.file import File, Staging
from redun.task import Task, task
from redun.utils import iter_nested_value, map_nested_value

DEFAULT_SHELL = "#!/usr/bin/env bash\nset -exo pipefail"

# Marks "outputs not given" (stdout); File("-") cannot be a default argument.
NULL = object()


class ScriptError(Exception):
    """A script exited with a non-zero code; carries its stderr."""

    def __init__(self, stderr: bytes) -> None:
        self.message: bytes | str
        try:
            self.message = stderr.decode("utf8")
        except UnicodeDecodeError:
            self.message = stderr
        super().__init__(stderr)

    def __str__(self) -> str:
        if isinstance(self.message, str):
            return "Last line: " + self.message.rstrip("\n").rsplit("\n")[-1]
        return ""

    def __repr__(self) -> str:
        return f"ScriptError('{self}')"


def prepare_command(command: str, default_shell: str = DEFAULT_SHELL) -> str:
    """Dedent and strip `command`; add the default shell if it names no interpreter."""
    command = dedent(command).strip()
    if not command.startswith("#!"):
        command = default_shell.rstrip("\n") + "\n" + command
    return command


def get_task_command(task: Task, args: tuple, kwargs: dict) -> str:
    """The script a ``script=True`` task returns for these arguments."""
    return prepare_command(task.func(*args, **kwargs))


def exec_script(command: str) -> bytes:
    """Run a script (any interpreter, via its shebang); its stdout, or ScriptError."""
    fd, command_file = tempfile.mkstemp(prefix="redun-script-")
    try:
        os.write(fd, command.encode("utf8"))
        os.close(fd)
        os.chmod(command_file, 0o700)
        proc = subprocess.run([command_file], check=False, capture_output=True)
    finally:
        os.remove(command_file)
    if proc.returncode != 0:
        raise ScriptError(proc.stderr)
    return proc.stdout


def get_command_eof(command: str, eof_prefix: str = "EOF") -> str:
    """A heredoc terminator that does not occur as a line of `command`."""
    lines = set(command.split("\n"))
    eof, index = eof_prefix, 0
    while eof in lines:
        index += 1
        eof = f"{eof_prefix}{index}"
    return eof


def get_wrapped_command(command: str, eof_prefix: str = "EOF") -> str:
    """A sh snippet that writes `command` to a temp file, runs it and keeps its exit code."""
    eof = get_command_eof(command, eof_prefix)
    return (
        "(\n"
        'COMMAND_FILE="$(mktemp)"\n'
        f'cat > "$COMMAND_FILE" <<"{eof}"\n'
        f"{command}\n"
        f"{eof}\n"
        'chmod +x "$COMMAND_FILE"\n'
        '"$COMMAND_FILE"\n'
        "RETCODE=$?\n"
        'rm "$COMMAND_FILE"\n'
        "exit $RETCODE\n"
        ")\n"
    )


@task(name="script_task", namespace="redun", version="1", script=True)
def script_task(command: str) -> str:
    """Run a shell script; the scheduler never reuses its result across executions."""
    return command


@task(name="script", namespace="redun", version="1", check_valid="shallow")
def _script(
    command: str,
    inputs: Any,
    outputs: Any,
    task_options: dict | None = None,
    temp_path: str | None = None,
) -> Any:
    # Shallow checking: while the output files are unchanged, the script is not rerun.
    return postprocess_script(
        script_task.options(**(task_options or {}))(command), outputs, temp_path=temp_path
    )


def _remote(value: Any) -> Any:
    if isinstance(value, Staging):
        return type(value.remote)(value.remote.path)
    return value


@task(name="postprocess_script", namespace="redun", version="1")
def postprocess_script(result: Any, outputs: Any, temp_path: str | None = None) -> Any:
    """Map ``File("-")`` to the script's stdout and staged outputs to their remote files."""

    def get_file(value: Any) -> Any:
        if isinstance(value, File) and value.path == "-":
            return result
        return _remote(value)

    if temp_path:
        shutil.rmtree(temp_path, ignore_errors=True)
    return map_nested_value(get_file, outputs)


def script(
    command: str | list,
    inputs: Any = None,
    outputs: Any = NULL,
    tempdir: bool = False,
    as_mount: bool = False,
    **task_options: Any,
) -> Any:
    """Run `command` as a task: stage `inputs` in, run, stage `outputs` back out.

    `outputs` defaults to ``File("-")`` (the script's stdout). Output Files that
    are not Staging objects stage to themselves. Task options (``executor``,
    ``memory``...) configure the job that runs the script.
    """
    if inputs is None:
        inputs = []
    if outputs is NULL:
        outputs = File("-")
    parts: list[str] = []
    temp_path = None
    if tempdir:
        temp_path = tempfile.mkdtemp(suffix=".tempdir")
        parts.append(shlex.join(["cd", temp_path]))

    def stage_output(value: Any) -> Any:
        if isinstance(value, File) and value.path != "-":
            return value.stage(value.path)
        return value

    outputs = map_nested_value(stage_output, outputs)
    parts.extend(
        value.render_stage(as_mount)
        for value in iter_nested_value(inputs)
        if isinstance(value, Staging)
    )
    if isinstance(command, list):
        command = shlex.join(command)
    parts.append(get_wrapped_command(prepare_command(command)))
    parts.extend(
        value.render_unstage(as_mount)
        for value in iter_nested_value(outputs)
        if isinstance(value, Staging)
    )
    return _script(
        "\n".join(parts),
        map_nested_value(_remote, inputs),
        outputs,
        task_options=task_options,
        temp_path=temp_path,
    )
