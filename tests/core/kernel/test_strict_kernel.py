"""The kernel uses pluggy's own checks: unknown hooks, blocked plugins, historic hooks.

Also: event hooks that raise (logged, re-raised in strict mode), hook
parameters typed for plugin authors, and lazy executor names that are
AttributeErrors with an install hint.
"""

from __future__ import annotations

import json
import logging
import typing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from redun import Scheduler, task
from redun.config import Config
from redun.plugins import PluginError, hookimpl, hookspecs
from redun.plugins.manager import RedunPluginManager, reset_plugin_manager

from tests.helpers.distributions import make_distribution

TYPO_PLUGIN = """
from redun.plugins import hookimpl

@hookimpl
def redun_executorz():
    return []

@hookimpl(optionalhook=True)
def redun_console_screens_of_a_plugin_not_installed():
    return []
"""

redun_namespace = "strict_kernel"


@task()
def one() -> int:
    return 1


def test_misspelled_hook_is_one_warning_naming_the_distribution(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_distribution(
        site, "typo-redun", "1.0", {"typo": "typo_plugin"}, {"typo_plugin": TYPO_PLUGIN}
    )
    manager = RedunPluginManager(strict=False)
    with caplog.at_level(logging.WARNING, logger="redun.plugins"):
        manager.load()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "plugin 'typo' from typo-redun implements unknown hook 'redun_executorz' (misspelled, "
        "or the plugin defining it is not installed; mark implementations of optional hooks "
        "optionalhook=True)"
    ]
    assert "local" in manager.executor_specs()  # the rest works


def test_misspelled_hook_is_an_error_in_strict_mode(site: Path) -> None:
    make_distribution(
        site, "typo-redun", "1.0", {"typo": "typo_plugin"}, {"typo_plugin": TYPO_PLUGIN}
    )
    with pytest.raises(PluginError, match="unknown hook 'redun_executorz'") as raised:
        RedunPluginManager(strict=True).load()
    assert "typo-redun" in str(raised.value)
    assert "not_installed" not in str(raised.value)  # optional hooks are not reported


def test_disabled_builtin_is_blocked_and_listed(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redun.cli.main import cli

    monkeypatch.setenv("REDUN_DISABLED_PLUGINS", "progress,builtins.backends")
    reset_plugin_manager()
    manager = RedunPluginManager(strict=True)
    manager.load()
    assert manager.is_blocked("builtins.progress") and manager.is_blocked("builtins.backends")
    assert manager.get_plugin("builtins.progress") is None
    assert manager.backend_specs() == {}
    assert "No state store for db_uri scheme 'sqlite'" in str(manager.missing("backend", "sqlite"))
    infos = {info.name: info for info in manager.plugin_infos()}
    assert infos["builtins.progress"].disabled and infos["builtins.progress"].hooks == ()
    assert not infos["builtins.executors"].disabled

    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("builtins.progress"))
    assert line.split()[1:] == ["redun-core", line.split()[2], "disabled"]
    listed = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).output)["plugins"]
    assert {p["name"]: p["disabled"] for p in listed}["builtins.backends"] is True
    reset_plugin_manager()


def test_hook_redun_add_hookspecs_is_historic() -> None:
    """A plugin registered after loading still adds its hookspecs (pluggy's historic call)."""
    manager = RedunPluginManager(strict=True)
    manager.load()

    class Specs:
        @hookspecs.hookspec
        def late_plugin_screens(self) -> list:
            """Screens of the late plugin."""

    class Late:
        @hookimpl
        def redun_add_hookspecs(self, pluginmanager: Any) -> None:
            pluginmanager.add_hookspecs(Specs)

    class User:
        @hookimpl
        def late_plugin_screens(self) -> list:
            return ["screen"]

    manager.register_plugin(Late(), "late", "late-dist", "1.0")
    manager.register_plugin(User(), "user", "user-dist", "1.0")
    assert manager.hook.late_plugin_screens() == [["screen"]]


class Exploding:
    @hookimpl
    def redun_job_done(self, scheduler: Any, job: Any, result: Any) -> None:
        raise RuntimeError("listener broke")


@pytest.mark.parametrize("strict", [True, False])
def test_event_hook_errors_are_logged_or_raised_in_strict_mode(
    strict: bool, caplog: pytest.LogCaptureFixture
) -> None:
    manager = RedunPluginManager(strict=strict)
    manager.load()
    manager.register_plugin(Exploding(), "exploding", "exploding-dist", "1.0")
    reset_plugin_manager(manager)
    try:
        scheduler = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))
        if strict:
            with pytest.raises(RuntimeError, match="listener broke"):
                scheduler.run(one())
        else:
            with caplog.at_level(logging.WARNING, logger="redun"):
                assert scheduler.run(one()) == 1
            assert "Plugin hook redun_job_done failed: RuntimeError('listener broke')" in (
                caplog.text
            )
    finally:
        reset_plugin_manager()


def test_hook_parameters_are_typed_for_plugin_authors() -> None:
    from redun.executors.base import Executor
    from redun.scheduler import Execution, Job, Scheduler

    names = {"Executor": Executor, "Execution": Execution, "Job": Job, "Scheduler": Scheduler}
    hints = typing.get_type_hints(hookspecs.redun_job_done, localns=names)
    assert hints["scheduler"] is Scheduler and hints["job"] is Job
    assert typing.get_type_hints(hookspecs.redun_job_env, localns=names)["executor"] is Executor
    finished = typing.get_type_hints(hookspecs.redun_execution_finished, localns=names)
    assert finished["execution"] is Execution


def test_lazy_executor_names_are_attribute_errors_with_the_hint() -> None:
    """Core tests load no entry points: redun-docker counts as not installed."""
    import redun

    reset_plugin_manager()
    try:
        assert not hasattr(redun, "DockerExecutor")
        with pytest.raises(AttributeError) as raised:
            redun.DockerExecutor  # noqa: B018
        assert str(raised.value) == (
            "module 'redun' has no attribute 'DockerExecutor': "
            "No executor type 'docker': pip install redun-docker"
        )
        with pytest.raises(ImportError, match="No executor type 'docker': pip install"):
            exec("from redun import DockerExecutor", {})
        assert hasattr(redun, "LocalExecutor")
    finally:
        reset_plugin_manager()
