"""redun's import paths for names that live elsewhere here, resolved on first use.

redun's modules carried many names besides their own (``from redun.scheduler
import Config`` works in redun because scheduler.py imported it), and some
names (``redun.DockerExecutor``, ``redun.file.S3FileSystem``) now come from
plugins. Each module listed in `REEXPORTS` ends with
``__getattr__ = module_getattr(__name__)``, so nothing here is imported until
a name is first asked for: ``import redun`` stays cheap and plugin lookups
wait for their first use.

A target is ``"module:attr"``, ``"executor:TYPE"`` (the class registered for
``type = TYPE``: code registration first, then plugins),
``"filesystem:SCHEME"`` or ``"value_type:TYPE_NAME"``. A plugin name nothing
installed provides raises ``MissingPluginImportError``, an ImportError
carrying the install hint.
"""

from __future__ import annotations

import dis
import importlib
import sys
from collections.abc import Callable
from types import FrameType, ModuleType
from typing import Any

_EXPRESSION = {
    name: f"redun.expression:{name}"
    for name in (
        "ApplyExpression",
        "Expression",
        "QuotedExpression",
        "SchedulerExpression",
        "SimpleExpression",
        "TaskExpression",
        "ValueExpression",
        "derive_expression",
        "get_lazy_operation",
        "quote",
    )
}
_UTILS = {
    name: f"redun.utils:{name}"
    for name in (
        "format_table",
        "iter_nested_value",
        "map_nested_value",
        "merge_dicts",
        "pickle_dumps",
        "pickle_loads",
        "trim_string",
    )
}

REEXPORTS: dict[str, dict[str, str]] = {
    "redun": {
        "register_executor": "redun.plugins.manager:register_executor",
        "LocalExecutor": "executor:local",
        "AliasExecutor": "executor:alias",
        "DockerExecutor": "executor:docker",
        "AWSBatchExecutor": "executor:aws_batch",
        "AWSGlueExecutor": "executor:aws_glue",
        "GCPBatchExecutor": "executor:gcp_batch",
        "K8SExecutor": "executor:k8s",
        "ShardedS3Dataset": "value_type:redun.ShardedS3Dataset",
    },
    "redun.scheduler": {
        **_EXPRESSION,
        **_UTILS,
        "CacheCheckValid": "redun.cache:CacheCheckValid",
        "CacheResult": "redun.cache:CacheResult",
        "CacheScope": "redun.cache:CacheScope",
        "Config": "redun.config:Config",
        "create_config_section": "redun.config:create_config_section",
        "postprocess_config": "redun.scheduler_config:postprocess_config",
        "REDUN_INI_FILE": "redun.scheduler_config:REDUN_INI_FILE",
        "Dir": "redun.file:Dir",
        "Handle": "redun.handle:Handle",
        "Promise": "redun.promise:Promise",
        "wait_promises": "redun.promise:wait_promises",
        "Task": "redun.task:Task",
        "TaskRegistry": "redun.task:TaskRegistry",
        "get_task_registry": "redun.task:get_task_registry",
        "hash_args_eval": "redun.task:hash_args_eval",
        "task": "redun.task:task",
        "Value": "redun.value:Value",
        "get_type_registry": "redun.value:get_type_registry",
        "hash_call_node": "redun.hashing:hash_call_node",
        "hash_struct": "redun.hashing:hash_struct",
        "parse_tag_value": "redun.tags:parse_tag_value",
        "Executor": "redun.executors.base:Executor",
        "LocalExecutor": "executor:local",
        "get_executors_from_config": "redun.scheduler.setup:get_executors_from_config",
        "RedunBackend": "redun.backends.base:RedunBackend",
        "TagEntity": "redun.backends.base:TagEntity",
        "RedunBackendDb": "redun.backends.db:RedunBackendDb",
        "get_backend_from_config": "redun.scheduler.setup:get_backend_from_config",
        "get_limits_from_config": "redun.scheduler.setup:get_limits_from_config",
        "get_ignore_warnings_from_config": "redun.scheduler.setup:get_ignore_warnings_from_config",
        "set_arg_defaults": "redun.scheduler.setup:set_arg_defaults",
    },
    "redun.cli": {
        **{
            name: f"redun.cli.client:{name}"
            for name in (
                "RedunClient",
                "RedunClientError",
                "check_version",
                "find_config_dir",
                "get_config_dir",
                "import_script",
                "setup_config",
                "setup_scheduler",
            )
        },
        "REDUN_CONFIG_ENV": "redun.scheduler_config:REDUN_CONFIG_ENV",
        "CallGraphQuery": "redun.backends.db.query:CallGraphQuery",
    },
    "redun.task": {
        "Promise": "redun.promise:Promise",
        "TypeRegistry": "redun.value:TypeRegistry",
        "split_task_fullname": "redun.compat:split_task_fullname",
    },
    "redun.config": {
        "File": "redun.file:File",
        "get_proto": "redun.file:get_proto",
    },
    "redun.executors.base": {
        "get_executor_class": "redun.plugins.manager:get_executor_class",
        "register_executor": "redun.plugins.manager:register_executor",
        "get_executor_from_config": "redun.scheduler.setup:get_executor_from_config",
        "get_executors_from_config": "redun.scheduler.setup:get_executors_from_config",
    },
    "redun.file": {
        "LocalFileSystem": "redun.filesystems.local:LocalFileSystem",
        "HTTPFileSystem": "redun.filesystems.http:HTTPFileSystem",
        "HTTPSFileSystem": "filesystem:https",
        "FTPFileSystem": "filesystem:ftp",
        "S3FileSystem": "filesystem:s3",
        "GSFileSystem": "filesystem:gs",
        "AzureBlobFileSystem": "filesystem:az",
        "ShardedS3Dataset": "value_type:redun.ShardedS3Dataset",
    },
}


def resolve(target: str) -> Any:
    """The object a `REEXPORTS` target names (importing it, or asking the plugin kernel)."""
    kind, _, name = target.partition(":")
    if kind == "executor":
        from redun.plugins.manager import get_executor_class

        return _or_import_error(get_executor_class, name)
    if kind == "value_type":
        return _value_type_class(name)
    if kind == "filesystem":
        from redun.plugins.manager import get_filesystem_class

        return _or_import_error(get_filesystem_class, name)
    obj: Any = importlib.import_module(kind)
    for attr in name.split("."):
        obj = getattr(obj, attr)
    return obj


def _value_type_class(type_name: str) -> type:
    """The class of a plugin's Value type (``redun.ShardedS3Dataset``), named by its type name."""
    from redun.plugins.errors import MissingPluginImportError
    from redun.plugins.manager import get_plugin_manager

    manager = get_plugin_manager()
    spec = manager.value_type_specs().get(type_name)
    if spec is None:
        raise MissingPluginImportError(str(manager.missing("value_type", type_name)))
    return getattr(importlib.import_module(spec.target), type_name.rpartition(".")[2])


def _or_import_error(lookup: Callable[[str], Any], name: str) -> Any:
    from redun.plugins.errors import MissingPluginError, MissingPluginImportError

    try:
        return lookup(name)
    except MissingPluginError as error:
        raise MissingPluginImportError(str(error)) from None


def module_getattr(module_name: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving `module_name`'s `REEXPORTS` (cached once resolved)."""
    table = REEXPORTS[module_name]

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        from redun.plugins.errors import MissingPluginAttributeError, MissingPluginImportError

        try:
            value = resolve(target)
        except MissingPluginImportError as error:
            # `from redun import X` turns any AttributeError into a message without the
            # install hint, so it gets the ImportError; attribute reads (and hasattr)
            # get an AttributeError carrying the same hint.
            if _is_import_from(sys._getframe(1)):
                raise
            raise MissingPluginAttributeError(
                f"module {module_name!r} has no attribute {name!r}: {error}"
            ) from None
        if not target.startswith(("executor:", "filesystem:", "value_type:")):
            # Plugin lookups stay live: registrations can change (tests, register_executor).
            setattr(sys.modules[module_name], name, value)
        return value

    return __getattr__


_IMPORT_FROM = dis.opmap["IMPORT_FROM"]


def _is_import_from(frame: FrameType) -> bool:
    """Whether `frame` is executing ``from module import name`` (its current instruction)."""
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_FROM


def alias_plugin_module(alias: str, executor_type: str, sibling: str | None = None) -> ModuleType:
    """Make module `alias` (``redun.executors.docker``) the module defining the executor.

    Called from the alias module's own body: the import system then hands out
    the plugin's module under redun's name, so ``from redun.executors.docker
    import DockerExecutor`` and ``mock.patch("redun.executors.docker.X")`` act
    on the plugin's objects. With `sibling`, the alias is that module of the
    plugin's package instead (``redun.glue`` is the ``glue`` module next to the
    ``aws_glue`` executor's).
    """
    from redun.plugins.errors import MissingPluginImportError
    from redun.plugins.manager import get_plugin_manager

    manager = get_plugin_manager()
    spec = manager.executor_specs().get(executor_type)
    if spec is None:
        error = MissingPluginImportError(
            f"Cannot import {alias}: {manager.missing('executor', executor_type)}"
        )
        error.name = alias
        raise error
    target = spec.target
    module_name = target.partition(":")[0] if ":" in target else target.rpartition(".")[0]
    if sibling is not None:
        module_name = f"{module_name.rpartition('.')[0]}.{sibling}".lstrip(".")
    module = importlib.import_module(module_name)
    sys.modules[alias] = module
    return module


# -- redun helpers whose shape differs from ours --------------------------------------


def split_task_fullname(task_fullname: str) -> tuple[str, str]:
    """``"ns.sub.name"`` -> ``("ns.sub", "name")``; no namespace gives ``""``."""
    namespace, _, name = task_fullname.rpartition(".")
    return namespace, name
