"""Contracts that hold across every distribution (the core and each plugin), all installed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import importlib_metadata
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib
from redun._version import DISTRIBUTION_VERSION
from redun.plugins.manager import RedunPluginManager, load_target
from redun.value import Value, get_type_registry

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("docker", "aws", "gcp", "k8s", "slurm", "console")
PYPROJECTS = [ROOT / "core" / "pyproject.toml"] + [
    ROOT / "plugins" / f"redun-{name}" / "pyproject.toml" for name in PLUGINS
]
HEAVY_MODULES = ("boto3", "botocore", "google", "kubernetes", "textual", "docker")


@pytest.fixture
def manager() -> RedunPluginManager:
    manager = RedunPluginManager(strict=True)
    manager.load(autoload=True)
    return manager


def read_project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def test_all_distributions_share_one_version() -> None:
    versions = {path.parent.name: read_project(path)["version"] for path in PYPROJECTS}
    assert set(versions.values()) == {DISTRIBUTION_VERSION}, versions
    assert importlib_metadata.version("redun-core") == DISTRIBUTION_VERSION
    for name in PLUGINS:
        assert importlib_metadata.version(f"redun-{name}") == DISTRIBUTION_VERSION
        module = __import__(f"redun_{name}")
        assert module.__version__ == DISTRIBUTION_VERSION


def test_plugins_depend_on_a_compatible_core_range() -> None:
    major, minor = (int(x) for x in DISTRIBUTION_VERSION.split(".")[:2])
    for name in PLUGINS:
        deps = read_project(ROOT / "plugins" / f"redun-{name}" / "pyproject.toml")["dependencies"]
        core = [d for d in deps if d.startswith("redun-core")]
        assert core == [f"redun-core>={major}.{minor}.0,<{major}.{minor + 1}"], (name, core)


def test_core_runtime_dependencies_are_exactly_the_agreed_ones() -> None:
    project = read_project(ROOT / "core" / "pyproject.toml")
    names = {re.split(r"[<>=\[ ]", dep)[0] for dep in project["dependencies"]}
    assert names == {
        "pluggy",
        "sqlalchemy",
        "alembic",
        "click",
        "cloudpickle",
        "importlib-metadata",
    }
    assert list(project["optional-dependencies"]) == ["postgres"]


def test_every_entry_point_loads_and_is_listed(manager: RedunPluginManager) -> None:
    eps = {ep.name: ep for ep in importlib_metadata.entry_points(group="redun")}
    assert set(PLUGINS) <= set(eps)
    for name in PLUGINS:
        assert eps[name].load().__name__ == f"redun_{name}.plugin"
    infos = {info.name: info for info in manager.plugin_infos()}
    for name in PLUGINS:
        assert infos[name].distribution == f"redun-{name}"
    assert manager.load_errors == []


def test_no_name_conflicts_with_every_plugin_installed(manager: RedunPluginManager) -> None:
    assert manager.executor_specs()
    assert manager.filesystem_specs()
    assert manager.command_specs()
    manager.value_type_specs()
    assert manager.config_section_specs()


def test_every_registered_target_imports(manager: RedunPluginManager) -> None:
    specs = [
        *manager.executor_specs().values(),
        *manager.filesystem_specs().values(),
        *manager.command_specs().values(),
        *manager.backend_specs().values(),
    ]
    for spec in specs:
        assert load_target(spec.target) is not None, spec
    # A value type's target names the module defining it: the type loads by its name.
    for value_spec in manager.value_type_specs().values():
        assert issubclass(get_type_registry().parse_type_name(value_spec.type_name), Value)


def test_import_redun_is_slim() -> None:
    code = (
        "import sys, redun\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r}]\n"
        "assert not heavy, heavy\n"
        "assert 'redun.plugins.manager' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redun_help_imports_no_cloud_sdk() -> None:
    """Building the CLI with every plugin's commands imports no SDK (google, boto3, ...):
    they load when a URL or a job first needs them."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from redun.cli.main import cli\n"
        "for args in (['--help'], ['fs', '--help'], ['run', '--help']):\n"
        "    result = CliRunner().invoke(cli, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r}]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redun_plugins_json_lists_every_plugin() -> None:
    redun_bin = Path(sys.executable).parent / "redun"
    proc = subprocess.run(
        [str(redun_bin), "plugins", "--json"], capture_output=True, text=True, check=True
    )
    listed = {p["name"]: p["distribution"] for p in json.loads(proc.stdout)["plugins"]}
    for name in PLUGINS:
        assert listed[name] == f"redun-{name}"
