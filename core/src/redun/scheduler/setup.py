"""Building a Scheduler's parts from redun.ini: config, backend and executors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from redun.scheduler.errors import SchedulerError

logger = logging.getLogger("redun")

IN_MEMORY_DB_URI = "sqlite:///:memory:"


def resolve_config(config: Any) -> Any:
    """A Config from a Config, a dict, or (None) the repository found like the CLI finds it."""
    from redun.config import Config, find_config_dir, load_config

    if config is None:
        config_dir = find_config_dir(create=False)
        return load_config(config_dir) if config_dir is not None else Config()
    if isinstance(config, Mapping) and not isinstance(config, Config):
        return Config(config_dict=config)
    return config


def config_dir_of(config: Any) -> str | None:
    """The repository directory a config was read from (or names in ``[backend]``)."""
    return getattr(config, "configdir", None) or (config.get("backend") or {}).get("config_dir")


def backend_from_config(config: Any) -> Any:
    """The state store named by ``[backend]``; in memory (with a warning) when none is set."""
    from redun.backends.registry import open_backend

    backend_config = dict(config.get("backend") or {})
    if not (backend_config.get("db_uri") or backend_config.get("db_aws_secret_name")):
        logger.warning(
            "No redun repository found ([backend] db_uri unset): using an in-memory database, "
            "so results will not be cached across runs (run 'redun init' to create one)."
        )
        backend_config["db_uri"] = IN_MEMORY_DB_URI
    return open_backend(backend_config)


def executors_from_config(config: Any, scheduler: Any) -> list[Any]:
    """One executor per ``[executors.NAME]`` section, by ``type`` (or ``class``)."""
    sections = config.get("executors") or {}
    return [build_executor(name, section, scheduler) for name, section in sections.items()]


def build_executor(name: str, section: Mapping[str, str], scheduler: Any) -> Any:
    """The executor of one ``[executors.NAME]`` section."""
    executor_class = _executor_class(name, section)
    try:
        return executor_class(name, scheduler=scheduler, config=section)
    except TypeError as error:
        raise SchedulerError(
            f"[executors.{name}] cannot build {executor_class.__name__}: {error}"
        ) from None


def _executor_class(name: str, section: Mapping[str, str]) -> type:
    from redun.plugins.manager import get_executor_class, load_target

    class_path = section.get("class")
    if class_path:
        try:
            return load_target(class_path)
        except (ImportError, AttributeError) as error:
            raise SchedulerError(
                f"[executors.{name}] class = {class_path} cannot be imported: {error}"
            ) from None
    executor_type = section.get("type")
    if not executor_type:
        raise SchedulerError(
            f"[executors.{name}] has no `type`; set e.g. `type = local` in redun.ini"
        )
    return get_executor_class(executor_type)


# -- redun's helpers of these names (redun.scheduler.get_*_from_config, ...) --------------


def set_arg_defaults(task: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """(args, kwargs) with the signature defaults of the parameters left out filled in."""
    from redun.scheduler.nested import get_arg_defaults

    return args, {**kwargs, **get_arg_defaults(task, args, kwargs)}


def get_executor_from_config(executors_config: Mapping[str, Any], executor_name: str) -> Any:
    """Build the executor of ``[executors.<executor_name>]`` (no scheduler attached)."""
    section = executors_config.get(executor_name)
    if section is None:
        known = ", ".join(sorted(executors_config)) or "none"
        raise SchedulerError(f'Unknown executor "{executor_name}" (configured: {known})')
    return build_executor(executor_name, section, None)


def get_executors_from_config(executors_config: Mapping[str, Any]) -> list[Any]:
    """One executor per section of ``config["executors"]`` (no scheduler attached)."""
    return [get_executor_from_config(executors_config, name) for name in executors_config]


def get_backend_from_config(backend_config: Mapping[str, str] | None = None) -> Any:
    """The state store a ``[backend]`` section names (in memory when it names none)."""
    return backend_from_config({"backend": dict(backend_config or {})})


def get_limits_from_config(limits_config: Mapping[str, str] | None = None) -> dict[str, int]:
    """``[limits]`` as resource name -> capacity."""
    from redun.scheduler.limits import parse_limits

    return parse_limits(limits_config)


def get_ignore_warnings_from_config(scheduler_config: Mapping[str, str]) -> set[str]:
    """The warning kinds ``[scheduler] ignore_warnings`` silences (whitespace-separated)."""
    return set((scheduler_config.get("ignore_warnings") or "").split())
