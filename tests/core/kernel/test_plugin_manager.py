"""The plugin manager: builtins, entry points, lazy loading, conflicts, hints."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from redun.plugins import (
    ExecutorSpec,
    MissingPluginError,
    PluginConflictError,
    PluginLoadError,
    hookimpl,
)
from redun.plugins.manager import (
    RedunPluginManager,
    get_executor_class,
    get_filesystem_class,
    get_plugin_manager,
    load_target,
    reset_plugin_manager,
)

from tests.helpers.distributions import make_distribution

EXECUTOR_PLUGIN = """
from redun.plugins import ExecutorSpec, hookimpl

@hookimpl
def redun_executors():
    return [ExecutorSpec("{name}", "{module}:Executor", "test executor")]

class Executor:
    pass
"""


def add_executor_dist(site: Path, dist: str, ep_name: str, module: str, executor: str) -> None:
    make_distribution(
        site,
        dist,
        "1.2.3",
        {ep_name: module},
        {module: EXECUTOR_PLUGIN.format(name=executor, module=module)},
    )


def loaded_manager(strict: bool = True) -> RedunPluginManager:
    manager = RedunPluginManager(strict=strict)
    manager.load()
    return manager


def test_builtins_register_first_with_core_distribution() -> None:
    manager = get_plugin_manager()
    infos = manager.plugin_infos()
    assert [info.name for info in infos[:4]] == [
        "builtins.executors",
        "builtins.filesystems",
        "builtins.commands",
        "builtins.config",
    ]
    assert {info.distribution for info in infos[:4]} == {"redun-core"}
    assert "redun_executors" in infos[0].hooks
    assert set(manager.executor_specs()) >= {"local", "alias"}
    assert set(manager.filesystem_specs()) >= {"local", "http", "https"}
    backends = next(info for info in infos if info.name == "builtins.backends")
    assert (backends.distribution, backends.hooks) == ("redun-core", ("redun_backends",))
    assert set(manager.backend_specs()) >= {"sqlite", "postgresql"}


def test_manager_is_a_lazy_singleton() -> None:
    assert get_plugin_manager() is get_plugin_manager()
    reset_plugin_manager()
    code = (
        "import sys, redun, redun.plugins; "
        "assert 'redun.plugins.manager' not in sys.modules, 'manager imported at import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_entry_point_plugin_is_loaded_with_its_distribution(site: Path) -> None:
    add_executor_dist(site, "acme-redun", "acme", "acme_plugin", "acme")
    manager = loaded_manager()
    info = {i.name: i for i in manager.plugin_infos()}["acme"]
    assert (info.distribution, info.version) == ("acme-redun", "1.2.3")
    assert info.hooks == ("redun_executors",)
    assert manager.resolve("executor", "acme").__module__ == "acme_plugin"
    assert manager.owner_of("executor", "acme") == "acme-redun"


def test_failed_plugin_warns_one_line_and_others_keep_working(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_distribution(
        site, "broken-redun", "0.1", {"broken": "broken_plugin"}, {"broken_plugin": "import nope\n"}
    )
    add_executor_dist(site, "good-redun", "good", "good_plugin", "good")
    with caplog.at_level(logging.WARNING, logger="redun.plugins"):
        manager = loaded_manager(strict=False)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert "broken-redun" in messages[0] and "No module named 'nope'" in messages[0]
    assert "\n" not in messages[0]
    assert "good" in manager.executor_specs()
    assert [e.distribution for e in manager.load_errors] == ["broken-redun"]


def test_strict_mode_raises_on_failed_plugin(site: Path) -> None:
    make_distribution(
        site, "broken-redun", "0.1", {"broken": "broken_plugin"}, {"broken_plugin": "1/0\n"}
    )
    with pytest.raises(PluginLoadError, match="broken-redun.*ZeroDivisionError"):
        loaded_manager(strict=True)


def test_conflicting_executor_names_both_distributions(site: Path) -> None:
    add_executor_dist(site, "first-redun", "first", "first_plugin", "same")
    add_executor_dist(site, "second-redun", "second", "second_plugin", "same")
    manager = loaded_manager()
    with pytest.raises(PluginConflictError) as info:
        manager.executor_specs()
    message = str(info.value)
    assert "'same'" in message and "first-redun" in message and "second-redun" in message


def test_plugin_cannot_shadow_a_builtin_scheme(site: Path) -> None:
    source = (
        "from redun.plugins import FileSystemSpec, hookimpl\n"
        "@hookimpl\n"
        "def redun_filesystems():\n"
        "    return [FileSystemSpec(('local',), 'x:Y')]\n"
    )
    make_distribution(
        site, "shadow-redun", "1.0", {"shadow": "shadow_plugin"}, {"shadow_plugin": source}
    )
    with pytest.raises(PluginConflictError, match="redun-core.*shadow-redun"):
        loaded_manager().filesystem_specs()


def test_disable_autoload(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_executor_dist(site, "acme-redun", "acme", "acme_plugin", "acme")
    monkeypatch.setenv("REDUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = loaded_manager()
    assert "acme" not in manager.executor_specs()
    assert "local" in manager.executor_specs()


@pytest.mark.parametrize("disabled", ["acme", "acme-redun", "other, acme"])
def test_disabled_plugins_by_name_or_distribution(
    site: Path, monkeypatch: pytest.MonkeyPatch, disabled: str
) -> None:
    add_executor_dist(site, "acme-redun", "acme", "acme_plugin", "acme")
    add_executor_dist(site, "other2-redun", "other2", "other2_plugin", "other2")
    monkeypatch.setenv("REDUN_DISABLED_PLUGINS", disabled)
    manager = loaded_manager()
    assert "acme" not in manager.executor_specs()
    assert "other2" in manager.executor_specs()


def test_missing_executor_type_gives_install_hint() -> None:
    with pytest.raises(
        MissingPluginError, match=r"No executor type 'aws_batch': pip install redun-aws"
    ):
        get_executor_class("aws_batch")


def test_missing_scheme_gives_install_hint() -> None:
    with pytest.raises(MissingPluginError) as info:
        get_filesystem_class("s3")
    assert str(info.value) == "No filesystem for scheme 's3': pip install redun-aws"


def test_unknown_name_lists_installed() -> None:
    with pytest.raises(
        MissingPluginError, match=r"No executor type 'nope': installed: alias, local"
    ):
        get_executor_class("nope")


def test_installed_distribution_without_the_name(site: Path) -> None:
    make_distribution(site, "redun-gcp", "0.1.0", {"gcp": "fake_gcp"}, {"fake_gcp": ""})
    manager = loaded_manager()
    message = str(manager.missing("filesystem", "gs"))
    assert message == (
        "No filesystem for scheme 'gs': redun-gcp is installed but provides no such "
        "filesystem in this version"
    )


def test_registered_plugin_object_and_listeners() -> None:
    manager = loaded_manager()
    assert not manager.has_listeners("redun_job_done")

    class Listener:
        seen: list = []

        @hookimpl
        def redun_job_done(self, scheduler, job, result):
            self.seen.append(result)

        @hookimpl
        def redun_executors(self):
            return [ExecutorSpec("listener", "json:dumps")]

    manager.register_plugin(Listener(), "listener", "listener-dist", "9.9")
    assert manager.has_listeners("redun_job_done")
    manager.hook.redun_job_done(scheduler=None, job=None, result=42)
    assert Listener.seen == [42]
    assert manager.resolve("executor", "listener") is json.dumps
    manager.unregister_plugin("listener")
    assert "listener" not in manager.executor_specs()


def test_load_target_forms() -> None:
    assert load_target("json:dumps") is json.dumps
    assert load_target("json.dumps") is json.dumps
    assert load_target("os.path:join") is __import__("os").path.join


def test_load_target_of_a_module_imports_it(site: Path) -> None:
    """ValueTypeSpec targets name a module, which may not be imported yet."""
    make_distribution(site, "pkg-x", "1.0", {}, {"pkg_x.__init__": "", "pkg_x.types": "A = 1\n"})
    module = load_target("pkg_x.types")
    assert module.__name__ == "pkg_x.types" and module.A == 1
    assert load_target("pkg_x.types.A") == 1
    make_distribution(site, "pkg-y", "1.0", {}, {"pkg_y": "import not_installed_anywhere\n"})
    with pytest.raises(ModuleNotFoundError, match="not_installed_anywhere"):
        load_target("pkg_y")
