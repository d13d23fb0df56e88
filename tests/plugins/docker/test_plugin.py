"""redun-docker registers the `docker` executor lazily, with the keys it reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from redun.executors.remote import RemoteExecutor
from redun.plugins.manager import get_plugin_manager


def test_docker_type_resolves_to_the_executor() -> None:
    from redun_docker.executor import DockerExecutor

    manager = get_plugin_manager()
    assert manager.resolve("executor", "docker") is DockerExecutor
    assert manager.owner_of("executor", "docker") == "redun-docker"
    assert issubclass(DockerExecutor, RemoteExecutor)


def test_declared_config_keys_are_the_keys_read() -> None:
    from redun_docker.executor import DockerExecutor

    spec = get_plugin_manager().executor_specs()["docker"]
    read = set(DockerExecutor.DEFAULTS) | set(RemoteExecutor.COMMON_CONFIG_KEYS)
    # include_aws_env is read by redun-aws's redun_job_env hook, not by the executor.
    assert set(spec.config_keys) == read | {"include_aws_env"}


def test_plugin_module_imports_neither_executor_nor_aws() -> None:
    code = (
        "import sys, redun_docker.plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('redun_docker.executor', "
        "'redun_aws', 'redun.executors.remote'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
    import redun_docker.executor

    assert "redun_aws" not in Path(redun_docker.executor.__file__).read_text()
