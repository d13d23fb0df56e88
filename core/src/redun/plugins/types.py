"""Small frozen records that provider hooks return.

Each `target` is a dotted ``"module:attr"`` string that is imported only when
the thing is first used, so listing plugins or building the CLI imports nothing
heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExecutorSpec:
    """An executor type usable as ``type = NAME`` in ``[executors.X]``."""

    name: str
    target: str
    description: str = ""
    # Keys accepted in an [executors.X] section of this type (besides `type`
    # and `class`), so typos in redun.ini can be reported.
    config_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileSystemSpec:
    """A filesystem class serving one or more URL schemes (``"s3"``, ``"local"``)."""

    schemes: tuple[str, ...]
    target: str
    description: str = ""


@dataclass(frozen=True)
class BackendSpec:
    """A state store (`redun.backends.base.RedunBackend`) serving ``db_uri`` schemes.

    `target` names the class; it is called as ``cls(config=section)`` with the
    ``[backend]`` section of redun.ini (``db_uri`` included).
    """

    schemes: tuple[str, ...]
    target: str
    description: str = ""


@dataclass(frozen=True)
class CommandSpec:
    """A top-level ``redun`` subcommand; `target` names a click command."""

    name: str
    target: str
    short_help: str = ""


@dataclass(frozen=True)
class CommandOptionSpec:
    """An extra option for an existing command (``"run"``, ``"log"``, ...).

    `target` names a click option declared with ``expose_value=False`` and a
    ``callback``: the command never sees the value, the plugin acts on it.
    """

    command: str
    target: str


@dataclass(frozen=True)
class ConfigSectionSpec:
    """A ``redun.ini`` section and the keys it accepts.

    `name` is a section name (``"backend"``) or a family of dotted sections
    (``"repos.*"``). An `open` section accepts any key (``[limits]``, ``[tags]``).
    """

    name: str
    keys: tuple[str, ...] = ()
    open: bool = False
    description: str = ""


@dataclass(frozen=True)
class ValueTypeSpec:
    """A Value type name and the module that defines it.

    Lets values recorded by a plugin be deserialized (and previewed) without
    the plugin having been imported first.
    """

    type_name: str
    target: str


@dataclass(frozen=True)
class PluginInfo:
    """What ``redun plugins`` reports about one registered plugin."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...] = field(default_factory=tuple)
    module: str = ""
    disabled: bool = False  # blocked by REDUN_DISABLED_PLUGINS
