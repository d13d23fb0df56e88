"""Smaller things redun users see: stored errors, bdecode errors, alias wording, hashes, logs.

Golden values (hashes, first log lines) were produced by redun 0.44.1 on the
same code, outside this repository.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from redun import File, Scheduler, task
from redun.backends.db import CallNode
from redun.bcoding import bdecode
from redun.config import Config
from redun.executors.alias import AliasExecutor
from redun.executors.base import ExecutorError
from redun.scheduler import DryRunResult, ErrorValue
from redun.value import get_type_registry

from tests.core.api import hash_includes_module as hashed
from tests.core.remote.process_engine import CLASS_PATH

ROOT = Path(__file__).resolve().parents[3]
redun_namespace = "api_small"


class LockError(Exception):
    """An exception that cannot be pickled: it holds a lock."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


class RefusesPickling(Exception):
    def __reduce__(self) -> Any:
        raise AttributeError("not today")


@task
def raises_lock_error(message: str) -> int:
    raise LockError(message)


@task
def raises_refusal(message: str) -> int:
    raise RefusesPickling(message)


def stored_errors(scheduler: Scheduler) -> dict[str, Exception]:
    session = scheduler.backend.session
    errors = {}
    for node in session.query(CallNode):
        value = node.value.value_parsed
        if isinstance(value, ErrorValue):
            errors[node.task_name] = value.error
    return errors


def test_an_unpicklable_error_is_stored_as_a_plain_exception_with_its_message(
    db_uri: str,
) -> None:
    scheduler = Scheduler(config=Config({"backend": {"db_uri": db_uri, "automigrate": "true"}}))
    with pytest.raises(LockError, match="holding a lock"):
        scheduler.run(raises_lock_error("holding a lock"))
    with pytest.raises(RefusesPickling):
        scheduler.run(raises_refusal("no pickle"))
    errors = stored_errors(scheduler)
    stored = errors["api_small.raises_lock_error"]
    assert type(stored) is Exception and stored.args == ("LockError('holding a lock')",)
    refused = errors["api_small.raises_refusal"]
    assert type(refused) is Exception and refused.args == ("RefusesPickling('no pickle')",)


def test_an_unpicklable_error_in_a_remote_worker_reaches_the_caller_as_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    engine = {"class": CLASS_PATH, "scratch": str(tmp_path / "scratch"), "code_package": "false"}
    config = Config(
        {"backend": {"db_uri": f"sqlite:///{tmp_path / 'db'}"}, "executors": {"engine": engine}}
    )
    scheduler = Scheduler(config=config)
    with pytest.raises(Exception, match=re.escape("LockError('in a worker')")) as info:
        scheduler.run(raises_lock_error.options(executor="engine")("in a worker"))
    assert type(info.value) is Exception
    assert stored_errors(scheduler)["api_small.raises_lock_error"].args == (
        "LockError('in a worker')",
    )


@pytest.mark.parametrize("data", [b"", b"x", b":abc", b"-3:abc", b"l", b"li1e"])
def test_bdecode_of_a_byte_that_starts_nothing_is_a_type_error(data: bytes) -> None:
    with pytest.raises(TypeError, match="bdecode"):
        bdecode(data)


def test_bdecode_errors_keep_redun_s_types() -> None:
    with pytest.raises(AssertionError, match="dict key 1 is not a string"):
        bdecode(b"di1ei2ee")
    for data in (b"i12", b"4:ab", b"5abc"):  # truncated: ValueError in both
        with pytest.raises(ValueError):
            bdecode(data)
    with pytest.raises(ValueError):  # ours are ValueErrors too, whatever redun's type
        bdecode(b"x")
    assert bdecode(b"d3:abcli1e1:xee") == {"abc": [1, "x"]}


def test_alias_executor_errors_start_with_redun_s_wording() -> None:
    with pytest.raises(ExecutorError) as info:
        AliasExecutor("fast")
    assert str(info.value).startswith("Alias executors must provide the `target` config")
    config = Config(
        {
            "backend": {"db_uri": "sqlite:///:memory:"},
            "executors": {"fast": {"type": "alias", "target": "gone"}},
        }
    )
    with pytest.raises(ExecutorError) as info:
        Scheduler(config=config).run(raises_lock_error.options(executor="fast")("x"))
    assert str(info.value).startswith(
        "Could not find executor `gone` from options: default, process"
    )


def test_hash_includes_follows_a_function_whose_code_object_was_replaced() -> None:
    registry = get_type_registry()
    assert registry.get_hash(hashed.helper) == "a13f2ecc0cce0979537f8a247e636107efdceaa4"
    assert hashed.uses_helper.hash == "0e7c7b7789c19321bb4e0204f039a9b3f477e097"
    original = hashed.helper.__code__
    try:
        hashed.helper.__code__ = hashed.replacement.__code__
        assert registry.get_hash(hashed.helper) == "5535f6a3a66d21bb526f48b9d309764fb7f5b04f"
        hashed.uses_helper.recompute_hash()
        assert hashed.uses_helper.hash == "9d5d89f108f97679adca2e358d1fc6c4c1e0cdf1"
    finally:
        hashed.helper.__code__ = original
        hashed.uses_helper.recompute_hash()
    assert hashed.uses_helper.hash == "0e7c7b7789c19321bb4e0204f039a9b3f477e097"


# -- dry-run and cache-miss lines ------------------------------------------------------------

MISS = r"Miss   Job [0-9a-f]{8}:  "
CONTINUATION = " " * len("Miss   Job 12345678:  ")


@task
def step(x: int) -> int:
    return x + 1


@task
def write(path: str, text: str) -> File:
    output = File(path)
    output.write(text)
    return output


def dryrun_lines(scheduler: Scheduler, expr: Any, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with pytest.raises(DryRunResult):
        scheduler.run(expr, dryrun=True)
    return [r.getMessage() for r in caplog.records if r.name == "redun"]


def following(lines: list[str], pattern: str) -> tuple[str, str]:
    """The line matching `pattern` and the one after it."""
    index = next(i for i, line in enumerate(lines) if re.fullmatch(pattern, line))
    return lines[index], lines[index + 1]


def test_miss_lines_start_with_redun_s_wording(
    db_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="redun")
    scheduler = Scheduler(config=Config({"backend": {"db_uri": db_uri, "automigrate": "true"}}))
    task_hash = step.hash[:8]

    lines = dryrun_lines(scheduler, step(1), caplog)
    _, reason = following(
        lines,
        MISS + rf"New task 'api_small.step\(\)' is called with new arguments "
        rf"\(task_hash={task_hash}, args_hash=[0-9a-f]{{8}}\)\.",
    )
    assert reason == CONTINUATION + "Never run before: no earlier call of task 'api_small.step'."
    assert lines[-1] == "Dryrun: Additional jobs would run."

    scheduler.run(step(1))
    lines = dryrun_lines(scheduler, step(2), caplog)
    _, reason = following(
        lines,
        MISS + rf"Existing task 'api_small.step\(\)' is called with new arguments "
        rf"\(task_hash={task_hash}, args_hash=[0-9a-f]{{8}} --> [0-9a-f]{{8}}\)\.",
    )
    assert reason == CONTINUATION + "New arguments: x changed (1 --> 2)."

    out = tmp_path / "out.txt"
    scheduler.run(write(str(out), "a"))
    out.write_text("edited")
    lines = dryrun_lines(scheduler, write(str(out), "a"), caplog)
    _, reason = following(
        lines,
        MISS + r"Cached result is no longer valid \(result=.*, eval_hash=[0-9a-f]{8}\)\.",
    )
    assert reason == (
        CONTINUATION + f"Cached result is no longer valid: File output '{out}' changed."
    )


def test_new_code_miss_line_names_both_task_hashes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="redun")
    config = Config({"backend": {"db_uri": f"sqlite:///{tmp_path / 'db'}"}})
    scheduler = Scheduler(config=config)
    scheduler.run(step(5))
    old_hash = step.hash[:8]

    @task(name="step", namespace="api_small")
    def changed_step(x: int) -> int:
        return x + 2

    try:
        lines = dryrun_lines(Scheduler(config=config), changed_step(5), caplog)
        first, reason = following(
            lines,
            MISS + rf"New task 'api_small.step\(\)' with previous arguments "
            rf"\(task_hash={old_hash} --> {changed_step.hash[:8]}, args_hash=[0-9a-f]{{8}}\)\.",
        )
        assert reason.startswith(CONTINUATION + "New task code for 'api_small.step'")
    finally:
        task(name="step", namespace="api_small")(step.func)
