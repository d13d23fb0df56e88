"""``redun.ini``: reading, interpolation, the config directory and validation.

Compatible with redun: INI with ``${var}`` interpolation that falls back to
environment variables, case-sensitive keys, dotted sections as nested dicts
(``[executors.batch]`` is ``config["executors"]["batch"]``). Unlike redun, keys
are checked against what plugins declare, so a typo is reported instead of
silently ignored.
"""

from __future__ import annotations

import ast
import configparser
import difflib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from redun.compat import module_getattr
from redun.errors import RedunError

logger = logging.getLogger("redun")

CONFIG_DIR_NAME = ".redun"
CONFIG_FILENAME = "redun.ini"
CONFIG_ENV = "REDUN_CONFIG"
DEFAULT_REPO_NAME = "default"
DEFAULT_DB_URI = "sqlite:///redun.db"
LEGACY_DB_URI = "sqlite:///.redun/redun.db"
EXECUTOR_COMMON_KEYS = ("type", "class")

DEFAULT_CONFIG = """\
# redun configuration: https://insitro.github.io/redun/config.html
# Keys are checked: an unknown key is reported with the closest valid one.

[backend]
db_uri = sqlite:///redun.db

[executors.default]
type = local
max_workers = 20

# [executors.batch]
# type = aws_batch
# image = YOUR_IMAGE
# queue = YOUR_QUEUE
# s3_scratch = s3://YOUR_BUCKET/redun/
"""


class ConfigError(RedunError):
    """A problem in redun.ini or the config directory, stated in one line."""


class _EnvInterpolation(configparser.Interpolation):
    """``${option}``, ``${section:option}``, else ``${ENV_VAR}``; ``$$`` is a dollar."""

    _pattern = re.compile(r"\$(\$|\{([^}]*)\})")
    _max_depth = 10

    def before_get(self, parser, section, option, value, defaults):
        return self._expand(parser, section, option, value, defaults, 0)

    def _expand(self, parser, section, option, value, defaults, depth):
        if "$" not in value:
            return value
        if depth > self._max_depth:
            raise configparser.InterpolationDepthError(option, section, value)

        def replace(match: re.Match) -> str:
            if match.group(1) == "$":
                return "$"
            name = match.group(2)
            if ":" in name:
                ref_section, _, ref_option = name.partition(":")
                if parser.has_option(ref_section, ref_option):
                    return parser.get(ref_section, ref_option)
            elif name in defaults:
                return self._expand(parser, section, name, defaults[name], defaults, depth + 1)
            if name in os.environ:
                return os.environ[name]
            raise ConfigError(
                f"[{section}] {option}: '${{{name}}}' is neither a config key nor an "
                "environment variable; define it or escape the dollar as '$$'"
            )

        return self._pattern.sub(replace, value)


def _new_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=_EnvInterpolation())
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    return parser


def _parse_error_line(error: configparser.Error, source: str) -> str:
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"{source}:{error.lineno}: expected a [section] header before {error.line.strip()!r}"
    if isinstance(error, configparser.DuplicateSectionError):
        return f"{source}:{error.lineno}: section [{error.section}] appears twice; merge them"
    if isinstance(error, configparser.DuplicateOptionError):
        return (
            f"{source}:{error.lineno}: key '{error.option}' appears twice in "
            f"[{error.section}]; keep one"
        )
    if isinstance(error, configparser.ParsingError) and error.errors:
        lineno, line = error.errors[0]
        if line[:1] in "'\"":
            line = ast.literal_eval(line)  # Python < 3.13 stores the line's repr
        return f"{source}:{lineno}: cannot parse {line.strip()!r}; expected 'key = value'"
    return f"{source}: {error}"


class Config:
    """redun configuration: sections of string keys, dotted sections nested."""

    def __init__(
        self, config_dict: Mapping[str, Any] | None = None, configdir: str | None = None
    ) -> None:
        self.parser = _new_parser()
        self.configdir = configdir
        self.sources: dict[str, str] = {}  # section -> file it was read from
        self._nested: dict[str, Any] = {}
        if config_dict:
            self.read_dict(config_dict)

    # -- reading ---------------------------------------------------------------

    def read_string(self, text: str, source: str = "<string>") -> None:
        try:
            self.parser.read_string(text, source=source)
        except configparser.Error as error:
            raise ConfigError(_parse_error_line(error, source)) from None
        for section in self.parser.sections():
            self.sources.setdefault(section, source)
        self._rebuild()

    def read_path(self, path: str) -> None:
        """Read an ini file; a local path also sets the config directory."""
        if "://" in path and not path.startswith("file://"):
            from redun.file import File

            self.read_string(File(path).read(), source=path)
            return
        local = Path(path.removeprefix("file://"))
        try:
            text = local.read_text()
        except OSError as error:
            raise ConfigError(f"cannot read config {local}: {error.strerror}") from None
        self.read_string(text, source=str(local))
        self.configdir = str(local.parent)

    def read_dict(self, config_dict: Mapping[str, Any]) -> None:
        """Read ``{section: {key: value}}``; nested dicts become dotted sections."""
        flat: dict[str, dict[str, str]] = {}

        def visit(prefix: str, mapping: Mapping[str, Any]) -> None:
            for key, value in mapping.items():
                if isinstance(value, Mapping):
                    if all(not isinstance(v, Mapping) for v in value.values()):
                        flat.setdefault(f"{prefix}{key}", {}).update(
                            {k: str(v) for k, v in value.items()}
                        )
                    else:
                        visit(f"{prefix}{key}.", value)
                else:
                    raise ConfigError(
                        f"config key '{prefix}{key}' is not inside a section; "
                        "use {'section': {'key': 'value'}}"
                    )

        visit("", config_dict)
        self.parser.read_dict(flat, source="<dict>")
        self._rebuild()

    def _rebuild(self) -> None:
        nested: dict[str, Any] = {}
        for name in self.parser.sections():
            section = self.parser[name]
            parts = name.split(".")
            node = nested
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    # Both [a] and [a.b] exist: keep [a] reachable as a mapping of
                    # its own keys plus children, as redun does for dotted names.
                    child = dict(child)
                    node[part] = child
                node = child
            existing = node.get(parts[-1])
            if isinstance(existing, dict):
                existing.update(section)
            else:
                node[parts[-1]] = section
        self._nested = nested

    # -- access ------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        return self._nested.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._nested[key]

    def __contains__(self, key: object) -> bool:
        return key in self._nested

    def __iter__(self) -> Iterator[str]:
        return iter(self._nested)

    def keys(self):
        return self._nested.keys()

    def items(self):
        return self._nested.items()

    def set(self, section: str, key: str, value: str) -> None:
        if not self.parser.has_section(section):
            self.parser.add_section(section)
        self.parser.set(section, key, value)
        self._rebuild()

    def get_config_dict(self, replace_config_dir: str | None = None) -> dict[str, dict[str, str]]:
        """Flat ``{section: {key: raw value}}``, for forwarding a config to workers."""
        result: dict[str, dict[str, str]] = {}
        for name in self.parser.sections():
            section = dict(self.parser.items(name, raw=True))
            if replace_config_dir and self.configdir:
                section = {
                    k: v.replace(self.configdir, replace_config_dir) for k, v in section.items()
                }
            result[name] = section
        return result

    # -- validation ----------------------------------------------------------------

    def problems(self) -> list[str]:
        """One line per unknown section or key, naming file, section, key and a suggestion."""
        from redun.plugins.manager import get_plugin_manager

        manager = get_plugin_manager()
        specs = manager.config_section_specs()
        executor_specs = manager.executor_specs()
        problems = []
        for name in self.parser.sections():
            source = self.sources.get(name, "<config>")
            keys = list(self.parser[name].keys() - self.parser.defaults().keys())
            family = name.split(".", 1)[0] + ".*" if "." in name else None
            spec = specs.get(name) or (specs.get(family) if family else None)
            if spec is None:
                known = list(specs)
                hint = difflib.get_close_matches(name, known, n=1) or difflib.get_close_matches(
                    family or name, known, n=1
                )
                suggestion = f" (did you mean [{hint[0]}]?)" if hint else ""
                problems.append(f"{source}: unknown section [{name}]{suggestion}")
                continue
            if spec.open:
                continue
            allowed: tuple[str, ...] = spec.keys
            if family == "executors.*":
                executor = executor_specs.get(self.parser[name].get("type", ""))
                if executor is None or not executor.config_keys:
                    continue  # unknown type is reported by the scheduler; undeclared keys pass
                allowed = EXECUTOR_COMMON_KEYS + executor.config_keys
            for key in keys:
                if key not in allowed:
                    hint = difflib.get_close_matches(key, allowed, n=1)
                    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                    problems.append(f"{source}: [{name}] unknown key '{key}'{suggestion}")
        return problems

    def validate(self, strict: bool | None = None) -> None:
        """Warn about unknown keys; raise instead with ``[scheduler] strict_config = true``."""
        if strict is None:
            strict = str(self.get("scheduler", {}).get("strict_config", "false")).lower() in (
                "true",
                "1",
                "yes",
            )
        problems = self.problems()
        if problems and strict:
            raise ConfigError(problems[0] + " ([scheduler] strict_config = true)")
        for problem in problems:
            logger.warning(problem)


def find_config_dir(
    config_dir: str | os.PathLike | None = None, create: bool = True, cwd: Path | None = None
) -> Path | None:
    """Resolve the config dir like redun: explicit, REDUN_CONFIG, `.redun` upward, else create.

    An explicit directory must already hold redun.ini (run ``redun init -c DIR``).
    With `create` False, returns None when nothing is found instead of creating
    ``./.redun``.
    """
    if config_dir is not None:
        path = Path(config_dir).expanduser().absolute()
        if not (path / CONFIG_FILENAME).exists():
            raise ConfigError(f"No redun config found at {path}. Run 'redun init -c {path}'")
        return path
    env_dir = os.environ.get(CONFIG_ENV)
    if env_dir:
        path = Path(env_dir).expanduser().absolute()
        if create:
            init_config_dir(path)
        return path if (path / CONFIG_FILENAME).exists() else None
    start = (cwd or Path.cwd()).absolute()
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_DIR_NAME
        if candidate.is_dir():
            if create:
                init_config_dir(candidate)
            return candidate
    if not create:
        return None
    path = start / CONFIG_DIR_NAME
    init_config_dir(path)
    return path


def init_config_dir(config_dir: Path) -> bool:
    """Create the directory and a default redun.ini if missing; True if created."""
    ini = config_dir / CONFIG_FILENAME
    if ini.exists():
        return False
    try:
        config_dir.mkdir(parents=True, exist_ok=True)
        ini.write_text(DEFAULT_CONFIG)
    except OSError as error:
        raise ConfigError(f"cannot create {ini}: {error.strerror}") from None
    return True


def absolute_db_uri(db_uri: str, config_dir: str | os.PathLike) -> str:
    """A relative SQLite `db_uri` made absolute against `config_dir`; others unchanged."""
    config_dir = Path(config_dir)
    prefix = "sqlite:///"
    if not db_uri.startswith(prefix):
        return db_uri
    path = db_uri[len(prefix) :]
    if path in ("", ":memory:") or path.startswith("/"):
        return db_uri
    if db_uri == LEGACY_DB_URI and config_dir.name == CONFIG_DIR_NAME:
        return prefix + str(config_dir / Path(path).name)
    return prefix + str((config_dir / path).resolve())


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _join(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}" if _is_url(base) else os.path.join(base, name)


def postprocess_config(config: Config, config_dir: str | os.PathLike) -> Config:
    """Fill the keys redun derives from the config dir (absolute db_uri, repos.default).

    `config_dir` may be a URL (``s3://bucket/conf``), as for ``subrun(config_dir=...)``.
    """
    raw = os.fspath(config_dir)
    remote = _is_url(raw)
    base = raw.rstrip("/") if remote else str(Path(raw).absolute())
    config.configdir = base
    backend = config.get("backend")
    db_uri = backend.get("db_uri", DEFAULT_DB_URI) if backend is not None else DEFAULT_DB_URI
    config.set("backend", "db_uri", db_uri if remote else absolute_db_uri(db_uri, base))
    config.set("backend", "config_dir", base)
    if "repos" not in config or DEFAULT_REPO_NAME not in config["repos"]:
        config.set(f"repos.{DEFAULT_REPO_NAME}", "config_dir", base)
    if "scheduler" not in config:
        config.parser.add_section("scheduler")
        config._rebuild()
    context_file = config["scheduler"].get("context_file")
    if context_file and not os.path.isabs(context_file):
        config.set("scheduler", "context_file", _join(base, context_file))
    _merge_federated_configs(config, base)
    return config


def _federated_config_dir(raw: str, config_dir: str) -> str:
    """Where a ``federated_configs`` entry points: as redun reads it, else by our rule.

    redun takes a relative entry relative to the working directory; one that
    is not there is taken relative to the config dir.
    """
    if _is_url(raw) or os.path.isabs(raw):
        return raw
    candidates = [os.path.abspath(raw), _join(config_dir, raw)]
    for candidate in candidates:
        if _is_url(candidate) or os.path.exists(os.path.join(candidate, CONFIG_FILENAME)):
            return candidate
    raise ConfigError(
        f"[scheduler] federated_configs: no {CONFIG_FILENAME} in {raw!r} (looked in "
        f"{candidates[0]} and {candidates[1]}); give a config directory"
    )


def _merge_federated_configs(config: Config, config_dir: str) -> None:
    paths = config["scheduler"].get("federated_configs", "").split()
    for raw in paths:
        other_ini = _join(_federated_config_dir(raw, config_dir), CONFIG_FILENAME)
        other = Config()
        other.read_path(other_ini)
        for name in other.parser.sections():
            if not name.startswith(("executors.", "federated_tasks.")):
                continue
            if config.parser.has_section(name):
                raise ConfigError(
                    f"[{name}] is defined both in {config.sources.get(name)} and in "
                    f"{other_ini} (federated_configs); rename one"
                )
            for key, value in other.parser.items(name, raw=True):
                config.set(name, key, value)
            config.sources[name] = other_ini


def load_config(config_dir: str | os.PathLike, validate: bool = True) -> Config:
    """Read ``<config_dir>/redun.ini`` (a local directory or a URL), post-process, validate.

    A local directory without redun.ini gives the default configuration; a URL
    must hold one.
    """
    raw = os.fspath(config_dir)
    config = Config()
    ini = _join(raw, CONFIG_FILENAME)
    if _is_url(raw) or os.path.exists(ini):
        config.read_path(ini)
    postprocess_config(config, raw)
    if validate:
        config.validate()
    return config


def create_config_section(config_dict: Mapping[str, str] | None = None) -> Any:
    """A standalone section mapping (what executors receive as their config)."""
    parser = _new_parser()
    parser.read_dict({"section": {k: str(v) for k, v in (config_dict or {}).items()}})
    return parser["section"]


# Names redun's module carried (redun.compat.REEXPORTS), imported on first access.
__getattr__ = module_getattr(__name__)
