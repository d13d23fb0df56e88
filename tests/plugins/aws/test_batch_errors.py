"""Bad aws_batch input gets one line naming the key or resource (moto API, no containers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from redun import Scheduler, task
from redun.executors.base import ExecutorError

from tests.helpers.moto_server import MotoServer
from tests.plugins.aws.batch_env import create_batch

redun_namespace = "aws_batch_errors_test"


@task(executor="batch")
def never_runs() -> int:
    return 1


def run_with(tmp_path: Path, section: dict[str, str]) -> Any:
    config = {
        "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
        "executors.batch": section,
    }
    return Scheduler(config=config).run(never_runs())


@pytest.fixture
def setup(moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # A small work dir: the code package is made from the current directory.
    monkeypatch.chdir(tmp_path)
    return create_batch(moto, "localhost/redun:test")


@pytest.mark.parametrize("missing", ["queue", "image", "s3_scratch"])
def test_required_keys_are_named(setup: Any, tmp_path: Path, missing: str) -> None:
    section = setup.executor_config()
    del section[missing]
    with pytest.raises(ExecutorError, match=rf"^\[executors.batch\] needs `{missing}`"):
        run_with(tmp_path, section)


def test_local_scratch_is_refused(setup: Any, tmp_path: Path) -> None:
    section = setup.executor_config(s3_scratch=str(tmp_path))
    with pytest.raises(ExecutorError, match="must be an s3:// URL"):
        run_with(tmp_path, section)


def one_line_error(tmp_path: Path, section: dict[str, str]) -> str:
    with pytest.raises(Exception) as info:
        run_with(tmp_path, section)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert "botocore" not in type(info.value).__module__
    return message


def test_unknown_queue(setup: Any, tmp_path: Path) -> None:
    message = one_line_error(tmp_path, setup.executor_config(queue="no-such-queue"))
    assert "queue = no-such-queue does not exist" in message


def test_missing_scratch_bucket(setup: Any, tmp_path: Path) -> None:
    message = one_line_error(tmp_path, setup.executor_config(s3_scratch="s3://no-such-bucket/x"))
    assert "bucket 'no-such-bucket' does not exist" in message


def test_no_credentials(setup: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    message = one_line_error(tmp_path, setup.executor_config())
    assert message.startswith("No AWS credentials found")


def test_job_definition_that_cannot_be_registered(setup: Any, tmp_path: Path) -> None:
    extra = json.dumps({"containerProperties": {"resourceRequirements": [{"type": "VCPU"}]}})
    message = one_line_error(tmp_path, setup.executor_config(job_def_extra=extra))
    assert "cannot register job definition 'localhostreduntest-redun-jd'" in message


def test_no_autocreate_without_a_matching_definition(setup: Any, tmp_path: Path) -> None:
    message = one_line_error(tmp_path, setup.executor_config(autocreate_job_def="false"))
    assert "autocreate_job_def = false" in message


def test_bad_json_keys(setup: Any, tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match=r"\[executors.batch\] batch_tags is not valid JSON"):
        run_with(tmp_path, setup.executor_config(batch_tags="{oops"))


def test_job_sizes_share_one_job_definition(setup: Any, moto: MotoServer) -> None:
    from redun.executors.remote import RemoteSpec
    from redun_aws.batch import AWSBatchExecutor

    executor = AWSBatchExecutor("batch", config=setup.executor_config())

    def spec(memory: float, gpus: int = 0) -> RemoteSpec:
        return RemoteSpec("j", ["true"], setup.image, 1, memory, gpus, {}, {})

    arns = {executor.job_definition(spec(m), 1) for m in (0.5, 4, 16)}
    assert len(arns) == 1
    # A new executor (a second run) finds the same revision instead of registering.
    again = AWSBatchExecutor("batch", config=setup.executor_config())
    assert again.job_definition(spec(2), 1) in arns
    assert moto.calls()["batch:registerjobdefinition"] == 1
    assert executor.job_definition(spec(1), 2) not in arns  # multi-node: its own definition
