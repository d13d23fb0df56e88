"""redun's import paths: re-exports, the executor modules plugins provide, job arrays, launch."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redun
from redun.compat import REEXPORTS, resolve
from redun.plugins import MissingPluginError
from redun.plugins.manager import reset_plugin_manager

from tests.helpers.distributions import make_distribution

ALIASES = {
    "redun.executors.docker": ("docker", "redun-docker", "DockerExecutor"),
    "redun.executors.aws_batch": ("aws_batch", "redun-aws", "AWSBatchExecutor"),
    "redun.executors.aws_glue": ("aws_glue", "redun-aws", "AWSGlueExecutor"),
    "redun.executors.gcp_batch": ("gcp_batch", "redun-gcp", "GCPBatchExecutor"),
    "redun.executors.k8s": ("k8s", "redun-k8s", "K8SExecutor"),
}
OUR_PLUGINS = "docker,aws,gcp,k8s"


@pytest.fixture(autouse=True)
def forget_aliases() -> Iterator[None]:
    """Each test resolves the executor modules afresh, against its own plugins."""
    yield
    import redun.executors

    for alias in ALIASES:
        sys.modules.pop(alias, None)
        redun.executors.__dict__.pop(alias.rpartition(".")[2], None)


# -- names redun's modules carried ---------------------------------------------------------


def test_the_lines_redun_users_write_import_the_same_objects() -> None:
    from redun.cache import CacheScope as canonical_scope
    from redun.config import Config as canonical_config
    from redun.executors.local import LocalExecutor as canonical_local
    from redun.expression import TaskExpression as canonical_expression
    from redun.scheduler import CacheScope, Config, LocalExecutor, Scheduler, TaskExpression
    from redun.scheduler_config import REDUN_CONFIG_ENV, REDUN_INI_FILE, postprocess_config
    from redun.task import CacheCheckValid, Promise, TypeRegistry, split_task_fullname

    assert Config is canonical_config
    assert CacheScope is canonical_scope
    assert LocalExecutor is canonical_local
    assert TaskExpression is canonical_expression
    assert Scheduler is redun.Scheduler
    assert (REDUN_INI_FILE, REDUN_CONFIG_ENV) == ("redun.ini", "REDUN_CONFIG")
    assert postprocess_config is redun.config.postprocess_config
    assert CacheCheckValid.SHALLOW.value == "shallow"
    assert Promise is importlib.import_module("redun.promise").Promise
    assert TypeRegistry is importlib.import_module("redun.value").TypeRegistry
    assert split_task_fullname("ns.sub.name") == ("ns.sub", "name")
    assert split_task_fullname("name") == ("", "name")


def test_every_reexport_resolves_to_an_object_of_that_name() -> None:
    for module_name, table in REEXPORTS.items():
        module = importlib.import_module(module_name)
        for name, target in table.items():
            if target.startswith(("executor:", "filesystem:", "value_type:")):
                continue  # plugin names: tested below
            value = getattr(module, name)
            assert value is resolve(target), (module_name, name)
            assert getattr(value, "__name__", name) == name, (module_name, name, target)


def test_unknown_names_are_still_attribute_errors() -> None:
    import redun.scheduler

    with pytest.raises(AttributeError, match="'redun.scheduler' has no attribute 'Nope'"):
        redun.scheduler.Nope  # noqa: B018
    with pytest.raises(ImportError):
        from redun.task import Nope  # noqa: F401


def test_reexports_are_loaded_only_when_asked_for() -> None:
    code = (
        "import sys, redun, redun.scheduler, redun.task, redun.file\n"
        "lazy = ['sqlalchemy', 'pluggy', 'configparser', 'redun.backends.db',"
        " 'redun.plugins.manager']\n"
        "assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]\n"
        "from redun.scheduler import Config\n"
        "assert 'configparser' in sys.modules and 'sqlalchemy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redun_helpers_with_their_redun_shapes(tmp_path: Path) -> None:
    from redun import task
    from redun.executors.base import get_executor_from_config, get_executors_from_config
    from redun.scheduler import (
        SchedulerError,
        get_backend_from_config,
        get_ignore_warnings_from_config,
        get_limits_from_config,
        set_arg_defaults,
    )

    @task(namespace="api_paths")
    def defaults(a: int, b: int = 2, c: str = "x") -> str:
        return f"{a}{b}{c}"

    assert set_arg_defaults(defaults, (1,), {"c": "y"}) == ((1,), {"c": "y", "b": 2})
    executors = {
        "one": {"type": "local", "mode": "process"},
        "two": {"type": "alias", "target": "one"},
    }
    one = get_executor_from_config(executors, "one")
    assert (one.name, one.mode, one.scheduler) == ("one", "process", None)
    assert [e.name for e in get_executors_from_config(executors)] == ["one", "two"]
    with pytest.raises(SchedulerError, match='Unknown executor "three"'):
        get_executor_from_config(executors, "three")
    assert get_limits_from_config({"db": "2"}) == {"db": 2}
    assert get_ignore_warnings_from_config({"ignore_warnings": "namespace other"}) == {
        "namespace",
        "other",
    }
    backend = get_backend_from_config({"db_uri": f"sqlite:///{tmp_path / 'x.db'}"})
    assert backend.db_uri.endswith("x.db")


def test_scheduler_config_paths() -> None:
    from redun.scheduler_config import DEFAULT_DB_URI, get_abs_config_dir, get_abs_db_uri

    assert get_abs_config_dir(".redun", cwd="/work/proj") == "/work/proj/.redun"
    assert get_abs_config_dir("/abs/.redun", cwd="/work") == "/abs/.redun"
    assert get_abs_db_uri(DEFAULT_DB_URI, ".redun", cwd="/w") == "sqlite:////w/.redun/redun.db"
    assert get_abs_db_uri("sqlite:////db/x.db", ".redun", cwd="/w") == "sqlite:////db/x.db"
    assert get_abs_db_uri("postgresql://h/db", ".redun") == "postgresql://h/db"


# -- executor modules provided by plugins -----------------------------------------------------


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_executor_module_without_its_plugin_is_an_import_error_with_the_hint(alias: str) -> None:
    executor_type, distribution, class_name = ALIASES[alias]
    with pytest.raises(ImportError) as info:
        importlib.import_module(alias)
    assert str(info.value) == (
        f"Cannot import {alias}: No executor type '{executor_type}': pip install {distribution}"
    )
    assert isinstance(info.value, MissingPluginError)
    assert alias not in sys.modules
    # An attribute read is an AttributeError (hasattr says False), with the same hint.
    with pytest.raises(AttributeError, match=f"has no attribute '{class_name}': .*pip install"):
        getattr(redun, class_name)
    assert not hasattr(redun, class_name)
    with pytest.raises(ImportError, match=f"pip install {distribution}"):
        exec(f"from redun import {class_name}", {})


FAKE_EXECUTORS = """\
from redun.executors.base import Executor


class FakeError(Exception):
    pass


def helper():
    return "{module}"

"""


@pytest.fixture
def third_party(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A third party's distribution providing every cloud executor type (ours disabled)."""
    monkeypatch.setenv("REDUN_DISABLED_PLUGINS", OUR_PLUGINS)
    modules = {
        "acme_exec.plugin": PLUGIN_SOURCE,
        "acme_exec.__init__": "",
        "acme_exec.dataset": "class ShardedS3Dataset:\n    pass\n",
    }
    for module in ("batch", "glue", "gcp", "kube", "box"):
        modules[f"acme_exec.{module}"] = FAKE_EXECUTORS.format(module=module) + "".join(
            f"class {name}(Executor):\n    pass\n\n\n"
            for name, (mod, _) in CLASSES.items()
            if mod == module
        )
    make_distribution(site, "acme-exec", "2.0", {"acme": "acme_exec.plugin"}, modules)
    reset_plugin_manager()
    return site


CLASSES = {
    "AWSBatchExecutor": ("batch", "aws_batch"),
    "AWSGlueExecutor": ("glue", "aws_glue"),
    "GCPBatchExecutor": ("gcp", "gcp_batch"),
    "K8SExecutor": ("kube", "k8s"),
    "DockerExecutor": ("box", "docker"),
}
PLUGIN_SOURCE = (
    "from redun.plugins import ExecutorSpec, ValueTypeSpec, hookimpl\n\n\n"
    "@hookimpl\n"
    "def redun_executors():\n"
    "    return [\n"
    + "".join(
        f"        ExecutorSpec({executor_type!r}, 'acme_exec.{module}:{name}'),\n"
        for name, (module, executor_type) in CLASSES.items()
    )
    + "    ]\n\n\n"
    "@hookimpl\n"
    "def redun_value_types():\n"
    "    return [ValueTypeSpec('redun.ShardedS3Dataset', 'acme_exec.dataset')]\n"
)


def test_executor_modules_are_the_modules_of_whatever_plugin_provides_the_type(
    third_party: Path,
) -> None:
    assert "acme_exec.batch" not in sys.modules
    for alias, (_, _, class_name) in ALIASES.items():
        module = importlib.import_module(alias)
        plugin_module = sys.modules[f"acme_exec.{CLASSES[class_name][0]}"]
        assert module is plugin_module
        assert getattr(module, class_name).__module__ == plugin_module.__name__
        assert getattr(redun, class_name) is getattr(plugin_module, class_name)
        assert module.FakeError.__module__ == plugin_module.__name__
    from redun.executors.aws_batch import AWSBatchExecutor, helper

    assert helper() == "batch"
    assert AWSBatchExecutor.__module__ == "acme_exec.batch"


def test_sharded_s3_dataset_comes_from_the_plugin_registering_its_type(
    third_party: Path,
) -> None:
    from redun import ShardedS3Dataset
    from redun.file import ShardedS3Dataset as from_file

    assert ShardedS3Dataset is from_file is sys.modules["acme_exec.dataset"].ShardedS3Dataset


def test_sharded_s3_dataset_without_its_plugin_says_what_to_install() -> None:
    with pytest.raises(ImportError) as info:
        from redun import ShardedS3Dataset  # noqa: F401
    assert str(info.value) == "No value type 'redun.ShardedS3Dataset': pip install redun-aws"
    assert "ShardedS3Dataset" not in redun.__all__  # `from redun import *` needs no plugin
    namespace: dict = {}
    exec("from redun import *", namespace)
    assert "Scheduler" in namespace


def test_patching_the_redun_path_patches_the_plugin(third_party: Path) -> None:
    from unittest import mock

    import redun.executors.k8s

    with mock.patch("redun.executors.k8s.helper", return_value="patched"):
        assert sys.modules["acme_exec.kube"].helper() == "patched"
    assert redun.executors.k8s.helper() == "kube"


def test_importing_redun_loads_no_executor_plugin_module(third_party: Path) -> None:
    code = (
        "import sys, redun, redun.executors\n"
        "assert not [m for m in sys.modules if m.startswith('acme_exec')]\n"
        "import redun.executors.gcp_batch as m\n"
        "assert m.__name__ == 'acme_exec.gcp', m\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(third_party), *sys.path]),
        "REDUN_DISABLED_PLUGINS": OUR_PLUGINS,
    }
    env.pop("REDUN_DISABLE_PLUGIN_AUTOLOAD", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_the_docker_module_is_redun_dockers(monkeypatch: pytest.MonkeyPatch) -> None:
    executor_module = pytest.importorskip("redun_docker.executor")
    monkeypatch.delenv("REDUN_DISABLE_PLUGIN_AUTOLOAD")
    reset_plugin_manager()
    import redun.executors.docker
    from redun.executors.docker import DockerError, DockerExecutor

    assert redun.executors.docker is executor_module
    assert DockerExecutor is executor_module.DockerExecutor is redun.DockerExecutor
    assert issubclass(DockerError, Exception)


# -- redun.glue and redun.file.ShardedS3Dataset ------------------------------------------------

GLUE_HELPERS = (
    "setup_glue_job",
    "get_glue_context",
    "get_spark_context",
    "get_spark_session",
    "get_num_workers",
    "udf",
    "clean_datacatalog_table",
    "load_datacatalog_spark_dataset",
    "sql_query",
)


@pytest.fixture
def forget_glue() -> Iterator[None]:
    yield
    sys.modules.pop("redun.glue", None)
    redun.__dict__.pop("glue", None)


def test_redun_glue_is_the_aws_plugins_glue_module(
    monkeypatch: pytest.MonkeyPatch, forget_glue: None
) -> None:
    glue_module = pytest.importorskip("redun_aws.glue")
    monkeypatch.delenv("REDUN_DISABLE_PLUGIN_AUTOLOAD")
    reset_plugin_manager()
    import redun.glue
    from redun.glue import get_spark_session, sql_query, udf

    assert redun.glue is glue_module
    assert (udf, sql_query, get_spark_session) == (
        glue_module.udf,
        glue_module.sql_query,
        glue_module.get_spark_session,
    )
    assert all(callable(getattr(redun.glue, name)) for name in GLUE_HELPERS)

    # The executor passes the worker count to the job; the helper reads it there.
    monkeypatch.setenv("REDUN_GLUE_NUM_WORKERS", "7")
    from redun.glue import get_num_workers

    assert get_num_workers() == 7


def test_redun_glue_udf_waits_for_spark(monkeypatch: pytest.MonkeyPatch, forget_glue: None) -> None:
    """A workflow module decorates with @udf at import, where no Spark runs (as in redun)."""
    pytest.importorskip("redun_aws.glue")
    # A machine without pyspark, even where CI installs it: importing it fails.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.delenv("REDUN_DISABLE_PLUGIN_AUTOLOAD")
    reset_plugin_manager()
    from redun.glue import udf

    @udf
    def double(x: int) -> int:
        return 2 * x

    @udf(return_type="int")
    def triple(x: int) -> int:
        return 3 * x

    assert (double(4), triple(4)) == (8, 12)


def test_redun_glue_without_the_aws_plugin_says_what_to_install(forget_glue: None) -> None:
    with pytest.raises(ImportError) as info:
        import redun.glue  # noqa: F401
    assert str(info.value) == (
        "Cannot import redun.glue: No executor type 'aws_glue': pip install redun-aws"
    )
    assert isinstance(info.value, MissingPluginError)
    assert "redun.glue" not in sys.modules


def test_redun_file_sharded_s3_dataset_is_redun_aws_s(monkeypatch: pytest.MonkeyPatch) -> None:
    dataset_module = pytest.importorskip("redun_aws.dataset")
    monkeypatch.delenv("REDUN_DISABLE_PLUGIN_AUTOLOAD")
    reset_plugin_manager()
    from redun.file import ShardedS3Dataset

    assert ShardedS3Dataset is dataset_module.ShardedS3Dataset is redun.ShardedS3Dataset


def test_redun_file_sharded_s3_dataset_without_the_plugin_says_what_to_install() -> None:
    with pytest.raises(ImportError) as info:
        from redun.file import ShardedS3Dataset  # noqa: F401
    assert str(info.value) == "No value type 'redun.ShardedS3Dataset': pip install redun-aws"
    import redun.file

    with pytest.raises(AttributeError, match="pip install redun-aws"):
        redun.file.ShardedS3Dataset  # noqa: B018


# -- redun.job_array ----------------------------------------------------------------------------


def test_job_array_module_is_the_executors_one() -> None:
    import redun.executors.job_array as implementation
    import redun.job_array
    from redun.job_array import (
        AWS_ARRAY_VAR,
        GCP_ARRAY_VAR,
        K8S_ARRAY_VAR,
        MAX_ARRAY_SIZE,
        JobArrayer,
        JobDescription,
        get_job_array_index,
    )

    assert redun.job_array is implementation
    assert JobArrayer is implementation.JobArrayer and JobDescription is not None
    assert (AWS_ARRAY_VAR, K8S_ARRAY_VAR, GCP_ARRAY_VAR, MAX_ARRAY_SIZE) == (
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "JOB_COMPLETION_INDEX",
        "BATCH_TASK_INDEX",
        10000,
    )
    assert get_job_array_index({}) is None
    assert get_job_array_index({"BATCH_TASK_INDEX": "4"}) == 4
    assert get_job_array_index({"JOB_COMPLETION_INDEX": "2", "BATCH_TASK_INDEX": "4"}) == 2
    assert get_job_array_index({"MY_RANK": "7", "BATCH_TASK_INDEX": "4"}, "MY_RANK") == 7
    with pytest.raises(ValueError):
        get_job_array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "x"})


# -- find_file -------------------------------------------------------------------------------------


def test_find_file_returns_redun_s_file_job_kind_triple(tmp_path: Path) -> None:
    from redun import File, Scheduler, task
    from redun.backends.db.query import find_file
    from redun.config import Config

    @task(namespace="api_paths")
    def write(path: str) -> File:
        output = File(path)
        output.write("hi")
        return output

    @task(namespace="api_paths")
    def read(file: File) -> str:
        return file.read()

    scheduler = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///:memory:"}}))
    out = str(tmp_path / "out.txt")
    assert scheduler.run(read(write(out))) == "hi"
    session = scheduler.backend.session
    file, job, kind = find_file(session, out)
    assert (file.path, job.task.name, kind) == (out, "write", "result")
    assert find_file(session, str(tmp_path / "other.txt")) is None
