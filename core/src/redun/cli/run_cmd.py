"""``redun run FILE_OR_MODULE TASK [task args]``: evaluate a task and print its result."""

from __future__ import annotations

import gc
import getpass
import importlib
import json
import os
import pickle
import pprint
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from redun.cli.errors import CliError
from redun.cli.state import CliState, pass_state
from redun.cli.task_args import (
    format_task_help,
    parse_task_args,
    split_call_args,
    task_params,
)
from redun.errors import RedunError


class TaskUsageError(click.ClickException):
    """A bad task name or argument: one line, exit code 2 like other usage errors."""

    exit_code = 2


def import_script(target: str, add_cwd: bool = True) -> ModuleType:
    """Import a workflow by file path or dotted module name, as redun does.

    A file's directory goes on the import path; for a module name, the working
    directory does (unless `add_cwd` is False).
    """
    from redun.utils import add_import_path

    path = Path(target)
    if target.endswith(".py") or path.is_file():
        if not path.is_file():
            raise CliError(f"No such workflow file: {target}")
        directory = str(path.resolve().parent)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        add_import_path(directory)
        module_name = path.stem
    else:
        cwd = os.getcwd()
        if add_cwd:
            if cwd not in sys.path:
                sys.path.insert(0, cwd)
            add_import_path(cwd)
        module_name = target
    try:
        if module_name in sys.modules:
            return importlib.reload(sys.modules[module_name])
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise CliError(f"No such workflow file or module: {target}") from None
        raise CliError(_import_failure(target, error)) from None
    except Exception as error:
        raise CliError(_import_failure(target, error)) from None


def _import_failure(target: str, error: BaseException) -> str:
    """Where in the user's code the import failed (never a line of redun or importlib)."""
    if isinstance(error, SyntaxError) and error.filename:
        where = f" at {error.filename}:{error.lineno}" if error.lineno else f" in {error.filename}"
        return f"cannot import {target}{where}: {type(error).__name__}: {error.msg}"
    frames = [f for f in _traceback_frames(error) if not _is_ours(f[0])]
    where = f" at {frames[-1][0]}:{frames[-1][1]}" if frames else ""
    return f"cannot import {target}{where}: {type(error).__name__}: {error}"


def _is_ours(filename: str) -> bool:
    import redun

    package = os.path.dirname(os.path.abspath(redun.__file__))
    return "importlib" in filename or os.path.abspath(filename).startswith(package + os.sep)


def _traceback_frames(error: BaseException) -> list[tuple[str, int]]:
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    return frames


def user_tasks(module: ModuleType) -> list[Any]:
    """Tasks defined by the workflow (not redun's own builtins)."""
    from redun.task import get_task_registry

    tasks = [
        task
        for task in get_task_registry()
        if task.namespace != "redun" and not (task.load_module or "").startswith("redun.")
    ]
    return sorted(tasks, key=lambda t: t.fullname)


def resolve_task(module: ModuleType, name: str) -> Any:
    from redun.task import get_task_registry

    namespace = getattr(module, "redun_namespace", None)
    registry = get_task_registry()
    candidates = [name] if "." in name or not namespace else [f"{namespace}.{name}", name]
    for candidate in candidates:
        task = registry.get(candidate)
        if task is not None:
            return task
    available = ", ".join(t.fullname for t in user_tasks(module)) or "none"
    raise TaskUsageError(f'Unknown task "{name}" (tasks: {available})')


def parse_key_values(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    pairs = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
        pairs.append((key, value))
    return pairs


def nested_context(pairs: list[tuple[str, str]]) -> dict:
    """``a.b=1`` -> ``{"a": {"b": 1}}`` with values parsed like tags."""
    from redun.tags import parse_tag_value

    context: dict = {}
    for key, raw in pairs:
        node = context
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = parse_tag_value(raw)
    return context


GIT_TIMEOUT_S = 5


class GitTags:
    """git_commit and git_origin_url of the workflow's checkout, when there is one.

    Both git processes start at once and are collected later, so they run on
    another core while this one imports the database layer and builds the
    scheduler (each costs a few milliseconds of fork, exec and wait).
    """

    QUERIES = (
        ("git_commit", "REDUN_GIT_COMMIT", ("rev-parse", "HEAD")),
        ("git_origin_url", "REDUN_GIT_ORIGIN_URL", ("config", "--get", "remote.origin.url")),
    )

    def __init__(self, directory: Path) -> None:
        self._started = time.monotonic()
        self._pending: list[tuple[str, str | subprocess.Popen | None]] = [
            (key, os.environ.get(env_name) or self._start(directory, args))
            for key, env_name, args in self.QUERIES
        ]

    @staticmethod
    def _start(directory: Path, args: tuple[str, ...]) -> subprocess.Popen | None:
        try:
            return subprocess.Popen(
                ["git", *args],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            return None

    def _output(self, proc: subprocess.Popen) -> str:
        remaining = max(0.0, GIT_TIMEOUT_S - (time.monotonic() - self._started))
        try:
            out, _ = proc.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return ""
        return out.strip() if proc.returncode == 0 else ""

    def collect(self) -> list[tuple[str, str]]:
        """The tags found (waits for git, at most GIT_TIMEOUT_S after the start)."""
        tags = []
        for key, pending in self._pending:
            value = self._output(pending) if isinstance(pending, subprocess.Popen) else pending
            if value:
                tags.append((key, value))
        self._pending = []
        return tags

    def cancel(self) -> None:
        """Stop git processes still running (the run failed before needing them)."""
        for _, pending in self._pending:
            if isinstance(pending, subprocess.Popen):
                if pending.poll() is None:
                    pending.kill()
                pending.communicate()
        self._pending = []


def execution_tags(
    task: Any, user: str | None, project: str | None, doc: str | None
) -> list[tuple[str, Any]]:
    """The execution's tags besides git's: redun version, user, project, doc."""
    from redun import __version__

    tags: list[tuple[str, Any]] = [("redun.version", __version__)]
    tags.append(("user", user or os.environ.get("REDUN_USER") or getpass.getuser()))
    tags.append(("project", project or task.namespace or task.name))
    if doc:
        tags.append(("doc", doc))
    return tags


def build_scheduler(state: CliState) -> Any:
    """The Scheduler for this repo, or the one ``[scheduler] setup_scheduler`` builds."""
    from redun.scheduler.user_setup import setup_scheduler

    state.scheduler = setup_scheduler(state.config, state.setup)
    return state.scheduler


def read_input_args(path: str) -> tuple[list, dict]:
    try:
        with open(path, "rb") as infile:
            args, kwargs = pickle.load(infile)
    except FileNotFoundError:
        raise CliError(f"--input: no such file {path}") from None
    except Exception as error:
        raise CliError(
            f"--input {path}: expected a pickle of (args, kwargs) ({type(error).__name__})"
        ) from None
    return list(args), dict(kwargs)


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--no-cache", is_flag=True, help="Run every job, ignoring cached results.")
@click.option("--dryrun", is_flag=True, help="Show what would run and why; run nothing.")
@click.option("-o", "--option", "task_options", multiple=True, metavar="KEY=VALUE")
@click.option("--context", "context_items", multiple=True, metavar="KEY.PATH=VALUE")
@click.option("--context-file", type=click.Path(dir_okay=False), help="JSON context file.")
@click.option("-t", "--tag", "tags", multiple=True, metavar="KEY=VALUE")
@click.option("-p", "--project", help="Project tag (default: the task's namespace).")
@click.option("-u", "--user", help="User tag (default: $REDUN_USER or login name).")
@click.option("--doc", help="Free-text description recorded as the `doc` tag.")
@click.option("--execution-id", help="Id to give the execution (default: a new uuid).")
@click.option("--rerun", metavar="EXEC_ID", help="Re-run an earlier execution's root call.")
@click.option("-i", "--input", "input_path", metavar="FILE", help="Pickled (args, kwargs).")
@click.option("--no-prov", is_flag=True, help="Record no provenance for this run.")
@click.option(
    "--keep-going/--fail-fast",
    default=None,
    help="After a failure, run independent jobs to completion (default; [scheduler] "
    "keep_going), or start nothing new.",
)
@click.argument("script", required=False)
@click.argument("task_name", required=False)
@click.argument("task_words", nargs=-1, type=click.UNPROCESSED)
@pass_state
def run(
    state: CliState,
    no_cache: bool,
    dryrun: bool,
    task_options: tuple[str, ...],
    context_items: tuple[str, ...],
    context_file: str | None,
    tags: tuple[str, ...],
    project: str | None,
    user: str | None,
    doc: str | None,
    execution_id: str | None,
    rerun: str | None,
    input_path: str | None,
    no_prov: bool,
    keep_going: bool | None,
    script: str | None,
    task_name: str | None,
    task_words: tuple[str, ...],
) -> Any:
    """Run TASK from SCRIPT (a .py file or module); SCRIPT alone lists its tasks."""
    if script is None:
        raise TaskUsageError("Usage: redun run FILE_OR_MODULE TASK [--arg value ...]")
    from redun._version import VERSION_BANNER
    from redun.logging import logger

    logger.info("redun :: version %s", VERSION_BANNER)
    logger.info("config dir: %s", state.config_dir)
    module = import_script(script)
    if task_name in (None, "help"):
        for task in user_tasks(module):
            click.echo(task.fullname)
        return
    words = list(task_words)
    if rerun:
        task, args, kwargs = _rerun_call(state, rerun)
    else:
        task = resolve_task(module, task_name)
        args, kwargs = read_input_args(input_path) if input_path else ([], {})
    if words[:1] == ["help"]:
        click.echo(format_task_help(task))
        return
    if words[:1] == ["info"]:
        click.echo(f"{task.fullname} (hash {task.hash})\n\n{task.source}")
        return

    params = task_params(task)
    given = {p.name for p in params[: len(args)]} | set(kwargs)
    try:
        values = parse_task_args(task.fullname, params, words, given)
    except Exception as error:
        raise TaskUsageError(str(error)) from None
    cli_args, cli_kwargs = split_call_args(params, values)
    if cli_args:
        args = cli_args + args[len(cli_args) :]
    kwargs.update(cli_kwargs)

    options = {key: _parse_option(value) for key, value in parse_key_values(task_options, "-o")}
    if no_prov:
        options["prov"] = False
    if options:
        task = task.options(**options)
    context = _load_context_file(context_file) if context_file else {}
    if context_items:
        from redun.utils import merge_dicts

        context = merge_dicts(
            [context, nested_context(parse_key_values(context_items, "--context"))]
        )
    if context:
        task = task.update_context(context)

    run_tags = execution_tags(task, user, project, doc)
    user_tags = [(k, _parse_option(v)) for k, v in parse_key_values(tags, "--tag")]
    git = GitTags(Path(script).resolve().parent)
    try:
        scheduler = build_scheduler(state)
    except BaseException:
        git.cancel()
        raise
    run_tags += git.collect() + user_tags
    if keep_going is not None:
        scheduler.keep_going = keep_going
    argv = state.argv or _exec_argv(script, task_name, words)
    from redun.scheduler import DryRunResult

    if state.owns_process:
        # Everything loaded so far (modules, the database layer, the workflow's
        # tasks) lives as long as the process: keep it out of every collection,
        # which otherwise re-walks it for each batch of new jobs.
        gc.freeze()

    try:
        result = scheduler.run(
            task(*args, **kwargs),
            exec_argv=argv,
            dryrun=dryrun,
            cache=not no_cache,
            tags=run_tags,
            execution_id=execution_id,
        )
    except DryRunResult:
        raise SystemExit(1) from None
    except KeyboardInterrupt as interrupt:
        # 130 for Ctrl-C, 143 for SIGTERM: the shell's convention for "ended by a signal".
        raise SystemExit(getattr(interrupt, "exit_code", 130)) from None
    except RedunError as error:
        if state.embedded and scheduler.traceback is not None:
            raise
        if scheduler.traceback is None:
            # Our own errors say what was wrong and what to do (a full disk, a lost database).
            raise CliError(str(error)) from None
        raise SystemExit(1) from None
    except SystemExit as task_exit:
        # A task's sys.exit(code): its traceback is logged; a failed run never exits 0.
        code = task_exit.code if isinstance(task_exit.code, int) and task_exit.code else 1
        raise SystemExit(code) from None
    except BaseException as error:
        # BaseException: a task may raise any (GeneratorExit, its own); none is ours to show.
        if state.embedded and scheduler.traceback is not None:
            # A task's own error reaches a RedunClient caller, as in redun.
            raise
        if scheduler.traceback is None:
            # Not a task's failure (the scheduler logs those with their traceback).
            raise CliError(f"{type(error).__name__}: {error}") from None
        raise SystemExit(1) from None
    if result is not None:
        click.echo(pprint.pformat(result))
    return result


def _exec_argv(script: str, task_name: str, words: list[str]) -> list[str]:
    """The command line recorded with the execution (as typed, when run from a shell)."""
    if os.path.basename(sys.argv[0]) == "redun":
        return ["redun", *sys.argv[1:]]
    return ["redun", "run", script, task_name, *words]


def _parse_option(raw: str) -> Any:
    from redun.tags import parse_tag_value

    return parse_tag_value(raw)


def _load_context_file(path: str) -> dict:
    try:
        with open(path) as infile:
            context = json.load(infile)
    except FileNotFoundError:
        raise CliError(f"--context-file: no such file {path}") from None
    except json.JSONDecodeError as error:
        raise CliError(
            f"--context-file {path}:{error.lineno}: invalid JSON ({error.msg})"
        ) from None
    if not isinstance(context, dict):
        raise CliError(f"--context-file {path}: expected a JSON object")
    return context


def _rerun_call(state: CliState, record_id: str) -> tuple[Any, list, dict]:
    """The task and arguments of an earlier execution's root call (or of a job)."""
    from redun.backends.db.reader import QueryError
    from redun.task import get_task_registry

    reader = state.get_reader()
    try:
        ref = reader.find_one(record_id, {"Execution", "Job"}, files=False)
    except QueryError as error:
        raise CliError(f"--rerun {record_id}: {error}") from None
    if ref is None or ref.type not in ("Execution", "Job"):
        raise CliError(f"--rerun {record_id}: no execution or job has this id")
    job_id = reader.execution(ref.id).job_id if ref.type == "Execution" else ref.id
    detail = reader.job_detail(job_id, max_children=0)
    if detail.call is None:
        raise CliError(f"--rerun {record_id}: the job never finished, so its arguments are unknown")
    args: dict[int, Any] = {}
    kwargs: dict[str, Any] = {}
    for argument in detail.call.arguments:
        value, found = reader.load_value(argument.value.hash)
        if not found:
            raise CliError(
                f"--rerun {record_id}: argument {argument.name} "
                "is no longer readable (its type cannot be loaded or it was deleted)"
            )
        if argument.key is not None:
            kwargs[argument.key] = value
        else:
            args[argument.position] = value
    task_name = detail.job.task
    task = get_task_registry().get(task_name)
    if task is None:
        raise CliError(f"--rerun {record_id}: task {task_name} is not defined by this workflow")
    return task, [args[i] for i in sorted(args)], kwargs
