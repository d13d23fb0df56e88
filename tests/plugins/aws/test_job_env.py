"""redun-aws forwards AWS settings to container jobs through `redun_job_env`."""

from __future__ import annotations

import pytest
from redun.config import create_config_section
from redun.plugins.manager import get_plugin_manager


class ExecutorLike:
    """Just the attribute the hook reads: an executor's config section."""

    def __init__(self, **config: str) -> None:
        self.config = create_config_section(config)


def merged_env(executor: object) -> dict[str, str]:
    env: dict[str, str] = {}
    for result in get_plugin_manager().hook.redun_job_env(job=None, executor=executor):
        env.update(result or {})
    return env


def test_hook_redun_job_env_forwards_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("UNRELATED", "x")
    env = merged_env(ExecutorLike())
    assert env["AWS_REGION"] == "us-east-2"
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    assert "UNRELATED" not in env


def test_include_aws_env_false_forwards_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    assert merged_env(ExecutorLike(include_aws_env="false")) == {}
