"""The one place `redun run` and `redun.run()` build their Scheduler.

``[scheduler] setup_scheduler = path/to/file.py::func`` (path relative to
redun.ini) or ``package.module::func`` names a user function, called as
``func(config, **setup)`` with the ``-s key=value`` arguments typed by its
annotations, that returns a Scheduler (for example one with library-built
executors). Errors are `SchedulerError`s, which the CLI prints as one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import typing
from pathlib import Path
from typing import Any

from redun.scheduler.errors import SchedulerError
from redun.scheduler.scheduler import Scheduler


def _load_function(spec: str, config_dir: str | None) -> Any:
    target, sep, func_name = spec.partition("::")
    if not sep or not target or not func_name:
        raise SchedulerError(
            f"[scheduler] setup_scheduler = {spec!r}: expected 'file.py::function' "
            "or 'package.module::function'"
        )
    if target.endswith(".py"):
        path = Path(config_dir or ".") / target
        if not path.is_file():
            raise SchedulerError(f"[scheduler] setup_scheduler: no such file {path}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as error:
            raise SchedulerError(
                f"[scheduler] setup_scheduler: cannot import {target} ({error})"
            ) from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise SchedulerError(f"[scheduler] setup_scheduler: {target} has no function {func_name!r}")
    return func


def _typed_setup_args(func: Any, setup: dict[str, str]) -> dict[str, Any]:
    from redun.value import get_type_registry

    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {}
    kwargs: dict[str, Any] = {}
    for key, raw in setup.items():
        if key not in signature.parameters:
            known = ", ".join(list(signature.parameters)[1:]) or "none"
            raise SchedulerError(f"-s/--setup: {func.__name__} takes no {key!r} (takes: {known})")
        annotation = hints.get(key, str)
        try:
            kwargs[key] = (
                raw if annotation is str else get_type_registry().parse_arg(annotation, raw)
            )
        except Exception as error:
            raise SchedulerError(f"-s/--setup {key}={raw!r}: {error}") from None
    return kwargs


def setup_help(config: Any) -> list[str]:
    """The lines of ``redun --setup-help``: the setup function's parameters and defaults."""
    lines = ["redun --setup <option>=<value> ..."]
    spec = config.get("scheduler", {}).get("setup_scheduler")
    if not spec:
        return lines
    func = _load_function(spec, config.configdir)
    for param in list(inspect.signature(func).parameters.values())[1:]:
        default = None if param.default is param.empty else param.default
        lines.append(f"  --setup {param.name}={param.name.upper()} (default: {default})")
    return lines


def setup_scheduler(config: Any, setup: dict[str, str], migrate: bool | None = None) -> Any:
    """A loaded Scheduler for `config`, built by ``[scheduler] setup_scheduler`` if set.

    `migrate` is passed to `Scheduler.load` (None: the backend's automigrate setting).
    """
    spec = config.get("scheduler", {}).get("setup_scheduler")
    if spec:
        func = _load_function(spec, config.configdir)
        scheduler = func(config, **_typed_setup_args(func, setup))
        if not isinstance(scheduler, Scheduler):
            raise SchedulerError(
                f"[scheduler] setup_scheduler {spec} returned "
                f"{type(scheduler).__name__}, not a Scheduler"
            )
    else:
        if setup:
            raise SchedulerError("-s/--setup needs [scheduler] setup_scheduler in redun.ini")
        scheduler = Scheduler(config=config)
    scheduler.load(migrate=migrate)
    return scheduler
