"""What every subcommand shares: global options, the config dir, loaded backends."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from redun.cli.errors import CliError
from redun.config import Config, ConfigError, find_config_dir, load_config


@dataclass
class CliState:
    """The root group's options, resolved lazily so `--help` never touches disk."""

    config_option: str | None = None
    repo: str = "default"
    setup: dict[str, str] = field(default_factory=dict)
    # Started as the `redun` command, not called by a host program or a test's
    # CliRunner: process-wide settings (such as the garbage collector's) are ours.
    owns_process: bool = False
    # Set by `redun.cli.RedunClient`: the command line as given (recorded with an
    # execution), and a task's own error is raised to the caller as in redun.
    argv: list[str] | None = None
    embedded: bool = False
    # The Scheduler `redun run` built (`RedunClient.scheduler` after the command).
    scheduler: Any = None
    _config_dir: Path | None = None
    _config: Config | None = None
    _backends: dict[str, Any] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        if self._config_dir is None:
            try:
                self._config_dir = find_config_dir(self.config_option)
            except ConfigError as error:
                raise CliError(str(error)) from None
            assert self._config_dir is not None
        return self._config_dir

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_dir)
        return self._config

    def repo_config(self, repo: str | None = None) -> Config:
        """The config of the default repo, or of ``[repos.NAME]``."""
        name = repo or self.repo
        if name == "default":
            return self.config
        repos = self.config.get("repos", {})
        if name not in repos:
            known = ", ".join(sorted(repos)) or "default"
            raise CliError(
                f"Unknown repo '{name}' (known: {known}). "
                "Add it with 'redun repo add NAME CONFIG_DIR'"
            )
        other_dir = Path(repos[name]["config_dir"])
        try:
            other_dir = find_config_dir(other_dir)  # type: ignore[assignment]
        except ConfigError as error:
            raise CliError(f"repo '{name}': {error}") from None
        return load_config(other_dir)

    def get_backend(self, repo: str | None = None, migrate: bool | None = None) -> Any:
        """A loaded call-graph backend for the default repo or a named one."""
        name = repo or self.repo
        if name not in self._backends:
            from redun.backends.registry import open_backend

            backend = open_backend(self.repo_config(name).get("backend") or {})
            backend.load(migrate=migrate)
            self._backends[name] = backend
        return self._backends[name]

    def get_reader(self, repo: str | None = None) -> Any:
        """The read model of the default repo or a named one (`redun log`, `redun explain`)."""
        backend = self.get_backend(repo)
        reader = getattr(backend, "reader", None)
        if reader is None:
            raise CliError(
                f"The state store {type(backend).__name__} has no read model: "
                "browsing commands need one (see redun.backends.db.reader)."
            )
        return reader()

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()
        if self.owns_process and self.scheduler is not None:
            # The program ends here: closing the run's database lets SQLite fold its
            # write-ahead log back into the file and remove it. A host program keeps
            # its scheduler's backend open (RedunClient users query it afterwards).
            try:
                self.scheduler.backend.close()
            except Exception as error:
                # The run has written (or reported why it could not) already; a
                # database that refuses the final checkpoint keeps its log file.
                logging.getLogger("redun").debug("Closing the database failed: %r", error)


pass_state = click.make_pass_decorator(CliState)
