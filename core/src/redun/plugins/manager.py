"""The plugin manager: builtins first, then the ``redun`` entry points.

Nothing here runs at ``import redun``: the manager is built on the first
registry lookup (first Scheduler, first ``File`` of a new scheme, CLI start).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pluggy

from redun.plugins import hookspecs
from redun.plugins.errors import (
    MissingPluginError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
)
from redun.plugins.types import (
    BackendSpec,
    CommandOptionSpec,
    CommandSpec,
    ConfigSectionSpec,
    ExecutorSpec,
    FileSystemSpec,
    PluginInfo,
    ValueTypeSpec,
)

logger = logging.getLogger("redun.plugins")

ENTRY_POINT_GROUP = "redun"
CORE_DISTRIBUTION = "redun-core"
BUILTIN_PLUGINS = (
    "redun.builtins.executors",
    "redun.builtins.filesystems",
    "redun.builtins.commands",
    "redun.builtins.config",
    "redun.builtins.backends",
    "redun.builtins.progress",
)

# Which of our distributions provides a name, for install hints when the name
# is asked for and nothing installed provides it.
KNOWN_PROVIDERS: dict[tuple[str, str], str] = {
    ("executor", "docker"): "redun-docker",
    ("executor", "aws_batch"): "redun-aws",
    ("executor", "aws_glue"): "redun-aws",
    ("executor", "gcp_batch"): "redun-gcp",
    ("executor", "k8s"): "redun-k8s",
    ("executor", "slurm"): "redun-slurm",
    ("filesystem", "s3"): "redun-aws",
    ("filesystem", "gs"): "redun-gcp",
    ("command", "console"): "redun-console",
    ("command", "aws"): "redun-aws",
    ("value_type", "redun.ShardedS3Dataset"): "redun-aws",
    ("command", "slurm"): "redun-slurm",
}

KIND_LABELS = {
    "backend": "state store for db_uri scheme",
    "executor": "executor type",
    "filesystem": "filesystem for scheme",
    "command": "command",
    "value_type": "value type",
}

SpecT = TypeVar("SpecT")
# Where a plugin came from: (distribution, version, module).
Origin = tuple[str, str, str]


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _entry_point_origin(ep: Any, module: Any = None) -> Origin:
    dist = ep.dist
    return (
        dist.name if dist else "unknown",
        dist.version if dist else "?",
        getattr(module, "__name__", ep.name),
    )


def load_target(target: str) -> Any:
    """Import ``"module:attr"``, ``"module.attr"`` or a module (``ValueTypeSpec``) and return it."""
    if ":" in target:
        module_name, _, attr_path = target.partition(":")
    else:
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as error:
            if error.name != target:
                raise
        module_name, _, attr_path = target.rpartition(".")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj


class RedunPluginManager(pluggy.PluginManager):
    """A pluggy manager that knows which distribution each plugin came from."""

    def __init__(self, strict: bool | None = None) -> None:
        super().__init__("redun")
        self.add_hookspecs(hookspecs)
        self.strict = _env_flag("REDUN_PLUGINS_STRICT") if strict is None else strict
        # name -> (dist, version, module), or a function that reads them from the
        # distribution's metadata when first asked (parsing it costs every startup).
        self._origins: dict[str, Origin | Callable[[], Origin]] = {}
        self._cache: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.load_errors: list[PluginLoadError] = []
        # Plugins blocked by REDUN_DISABLED_PLUGINS (pluggy's set_blocked): name -> origin.
        self.disabled: dict[str, Origin] = {}

    # -- loading -------------------------------------------------------------

    def load(self, autoload: bool | None = None) -> None:
        """Register builtins, then entry points (unless autoload is disabled), then check
        that every hook implementation names a known hook."""
        from redun._version import DISTRIBUTION_VERSION

        disabled = _env_list("REDUN_DISABLED_PLUGINS")
        for module_name in BUILTIN_PLUGINS:
            name = module_name.removeprefix("redun.")
            origin = (CORE_DISTRIBUTION, DISTRIBUTION_VERSION, module_name)
            if name in disabled or name.removeprefix("builtins.") in disabled:
                self._block(name, origin)
                continue
            self.register(importlib.import_module(module_name), name=name)
            self._origins[name] = origin

        if autoload is None:
            autoload = not _env_flag("REDUN_DISABLE_PLUGIN_AUTOLOAD")
        if autoload:
            self._load_entry_points(disabled)
        # Historic: a plugin registered later (register_plugin) gets the call too.
        self.hook.redun_add_hookspecs.call_historic(kwargs={"pluginmanager": self})
        self._check_hook_names()

    def _block(self, name: str, origin: Origin) -> None:
        self.set_blocked(name)
        self.disabled[name] = origin

    def _check_hook_names(self) -> None:
        """A misspelled hook is a one-line warning naming its distribution (strict: error)."""
        try:
            self.check_pending()
        except pluggy.PluginValidationError:
            problems = [
                f"plugin '{impl.plugin_name}' from {self.distribution_of(impl.plugin_name)} "
                f"implements unknown hook '{name}' (misspelled, or the plugin defining it is "
                "not installed; mark implementations of optional hooks optionalhook=True)"
                for name, caller in sorted(vars(self.hook).items())
                if not name.startswith("_") and not caller.has_spec()
                for impl in caller.get_hookimpls()
                if not impl.optionalhook
            ]
            if self.strict:
                raise PluginError("; ".join(problems)) from None
            for problem in problems:
                logger.warning("%s", problem)

    def _load_entry_points(self, disabled: set[str]) -> None:
        # The standard library's reader: SQLAlchemy imports it anyway, the backport
        # costs its own import. A distribution's name is read from its metadata
        # (an email parse) only when REDUN_DISABLED_PLUGINS may name it.
        from importlib.metadata import entry_points

        seen: set[str] = set()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in seen or self.has_plugin(ep.name):
                continue
            seen.add(ep.name)
            if disabled and (ep.name in disabled or _entry_point_origin(ep)[0] in disabled):
                self._block(ep.name, _entry_point_origin(ep))
                continue
            try:
                module = ep.load()
            except Exception as error:
                failure = PluginLoadError(ep.name, _entry_point_origin(ep)[0], error)
                if self.strict:
                    raise failure from error
                self.load_errors.append(failure)
                logger.warning("%s", failure)
                continue
            self._register(module, ep.name, functools.partial(_entry_point_origin, ep, module))

    def register_plugin(self, module: Any, name: str, distribution: str, version: str) -> None:
        """Register a plugin object and remember where it came from."""
        self._register(module, name, (distribution, version, getattr(module, "__name__", name)))

    def _register(self, module: Any, name: str, origin: Origin | Callable[[], Origin]) -> None:
        with self._lock:
            self.register(module, name=name)
            self._origins[name] = origin
            self._cache.clear()

    def _origin(self, name: str) -> Origin:
        origin = self._origins.get(name, ("unknown", "?", ""))
        if callable(origin):
            origin = self._origins[name] = origin()
        return origin

    def unregister_plugin(self, name: str) -> None:
        with self._lock:
            plugin = self.get_plugin(name)
            if plugin is not None:
                self.unregister(plugin, name=name)
            self._origins.pop(name, None)
            self._cache.clear()

    # -- introspection ---------------------------------------------------------

    def distribution_of(self, plugin_name: str) -> str:
        return self._origin(plugin_name)[0]

    def plugin_infos(self) -> list[PluginInfo]:
        """Registered plugins in registration order, then the disabled ones."""
        infos = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:  # blocked: listed below
                continue
            dist, version, module = self._origin(name)
            hooks = tuple(sorted(caller.name for caller in self.get_hookcallers(plugin) or []))
            infos.append(PluginInfo(name, dist, version, hooks, module))
        for name, (dist, version, module) in self.disabled.items():
            infos.append(PluginInfo(name, dist, version, (), module, disabled=True))
        return infos

    def has_listeners(self, hook_name: str) -> bool:
        """Whether any plugin implements `hook_name` (the scheduler skips the call if not)."""
        caller = getattr(self.hook, hook_name)
        return bool(caller.get_hookimpls())

    # -- name-keyed registries -----------------------------------------------

    def _collect(
        self,
        kind: str,
        hook: Callable[[], list[list[SpecT]]],
        names_of: Callable[[SpecT], Iterable[str]],
    ) -> dict[str, SpecT]:
        with self._lock:
            if kind in self._cache:
                return self._cache[kind]
            registry: dict[str, SpecT] = {}
            owners: dict[str, str] = {}
            for impl in getattr(self.hook, hook.__name__).get_hookimpls():
                for spec in impl.function() or []:
                    for name in names_of(spec):
                        if name in registry:
                            first, second = owners[name], impl.plugin_name
                            removable = first if second.startswith("builtins.") else second
                            raise PluginConflictError(
                                f"{KIND_LABELS.get(kind, kind)} '{name}' is provided by both "
                                f"{self.distribution_of(first)} (plugin '{first}') and "
                                f"{self.distribution_of(second)} (plugin '{second}'); uninstall "
                                f"one, or disable one with REDUN_DISABLED_PLUGINS={removable}"
                            )
                        registry[name] = spec
                        owners[name] = impl.plugin_name
            self._cache[kind] = registry
            self._cache[kind + ":owners"] = owners
            return registry

    def owner_of(self, kind: str, name: str) -> str | None:
        """Distribution that provides `name` of `kind`, or None."""
        self._registry(kind)
        plugin_name = self._cache[kind + ":owners"].get(name)
        return self.distribution_of(plugin_name) if plugin_name else None

    def _registry(self, kind: str) -> dict[str, Any]:
        return {
            "backend": self.backend_specs,
            "executor": self.executor_specs,
            "filesystem": self.filesystem_specs,
            "command": self.command_specs,
            "value_type": self.value_type_specs,
        }[kind]()

    def backend_specs(self) -> dict[str, BackendSpec]:
        return self._collect("backend", hookspecs.redun_backends, lambda s: s.schemes)

    def executor_specs(self) -> dict[str, ExecutorSpec]:
        return self._collect("executor", hookspecs.redun_executors, lambda s: [s.name])

    def filesystem_specs(self) -> dict[str, FileSystemSpec]:
        return self._collect("filesystem", hookspecs.redun_filesystems, lambda s: s.schemes)

    def command_specs(self) -> dict[str, CommandSpec]:
        return self._collect("command", hookspecs.redun_commands, lambda s: [s.name])

    def command_option_specs(self, command: str) -> list[tuple[str, CommandOptionSpec]]:
        """(plugin name, spec) of every extra option for `command`.

        The plugin name, not its distribution: `distribution_of` reads the
        distribution's metadata, which only an error message needs.
        """
        with self._lock:
            if "command_option" not in self._cache:
                found: list[tuple[str, CommandOptionSpec]] = []
                for impl in self.hook.redun_command_options.get_hookimpls():
                    for spec in impl.function() or []:
                        found.append((impl.plugin_name, spec))
                self._cache["command_option"] = found
            return [item for item in self._cache["command_option"] if item[1].command == command]

    def value_type_specs(self) -> dict[str, ValueTypeSpec]:
        return self._collect("value_type", hookspecs.redun_value_types, lambda s: [s.type_name])

    def config_section_specs(self) -> dict[str, ConfigSectionSpec]:
        with self._lock:
            if "config_section" not in self._cache:
                sections: dict[str, ConfigSectionSpec] = {}
                for specs in self.hook.redun_config_sections():
                    for spec in specs or []:
                        known = sections.get(spec.name)
                        if known is not None:
                            # Several plugins may add keys to one section ([scheduler]).
                            spec = ConfigSectionSpec(
                                spec.name,
                                tuple(sorted(set(known.keys) | set(spec.keys))),
                                known.open or spec.open,
                                known.description or spec.description,
                            )
                        sections[spec.name] = spec
                self._cache["config_section"] = sections
            return self._cache["config_section"]

    def resolve(self, kind: str, name: str) -> Any:
        """Import and return the target registered for `name`, or raise with a hint."""
        spec = self._registry(kind).get(name)
        if spec is None:
            raise self.missing(kind, name)
        return load_target(spec.target)

    def missing(self, kind: str, name: str) -> MissingPluginError:
        """The error for a name no installed plugin provides, with an install hint."""
        label = KIND_LABELS.get(kind, kind)
        known = sorted(self._registry(kind))
        provider = KNOWN_PROVIDERS.get((kind, name))
        if provider is None:
            hint = f"installed: {', '.join(known) or 'none'}"
        elif any(origin[0] == provider for origin in self.disabled.values()):
            hint = f"{provider} is disabled by REDUN_DISABLED_PLUGINS"
        elif any(self._origin(name)[0] == provider for name in list(self._origins)):
            hint = f"{provider} is installed but provides no such {kind} in this version"
        else:
            hint = f"pip install {provider}"
        return MissingPluginError(f"No {label} '{name}': {hint}")


_manager: RedunPluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager() -> RedunPluginManager:
    """The process-wide plugin manager, built and loaded on first call."""
    global _manager
    manager = _manager
    if manager is None:
        with _manager_lock:
            if _manager is None:
                manager = RedunPluginManager()
                manager.load()
                _manager = manager
            manager = _manager
    return manager


def reset_plugin_manager(manager: RedunPluginManager | None = None) -> None:
    """Drop the process-wide manager (or install `manager`); used by tests."""
    global _manager
    with _manager_lock:
        _manager = manager


# Types registered in code (redun's `register_executor`), consulted before plugins.
_registered_executors: dict[str, type | str] = {}


def register_executor(name: str, executor_class: type | str | None = None) -> Any:
    """Make ``type = name`` in redun.ini use `executor_class` (a class or "module.Class").

    Usable as a decorator: ``@register_executor("mine")``. Plugins should prefer the
    ``redun_executors`` hook; this keeps redun workflows that register in code working.
    """
    if executor_class is None:

        def deco(cls: type) -> type:
            _registered_executors[name] = cls
            return cls

        return deco
    _registered_executors[name] = executor_class
    return executor_class


def get_executor_class(type_name: str) -> type:
    """The class for ``type = type_name``: registered in code, else from a plugin."""
    registered = _registered_executors.get(type_name)
    if registered is None:
        return get_plugin_manager().resolve("executor", type_name)
    if isinstance(registered, str):
        registered = _registered_executors[type_name] = load_target(registered)
    return registered


def get_filesystem_class(scheme: str) -> type:
    """The filesystem class registered for URL `scheme`."""
    return get_plugin_manager().resolve("filesystem", scheme)
