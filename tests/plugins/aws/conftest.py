"""Tests of redun-aws: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_aws", reason="redun-aws is not installed")


@pytest.fixture
def batch_setup(moto, moto_docker):
    """A Batch queue on the reset moto server whose jobs run in the test image."""
    from tests.plugins.aws.batch_env import create_batch

    return create_batch(moto, moto_docker)


@pytest.fixture
def batch_wf(batch_setup, tmp_path_factory, monkeypatch):
    """The Batch test workflow, imported from a fresh work dir that its code package ships."""
    import importlib
    import shutil
    import sys
    from pathlib import Path

    workdir = tmp_path_factory.mktemp("batch-workflow")
    shutil.copy(Path(__file__).with_name("batch_workflow.py"), workdir / "batch_workflow.py")
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    return sys.modules.get("batch_workflow") or importlib.import_module("batch_workflow")


@pytest.fixture
def batch_scheduler(batch_setup, tmp_path):
    """Schedulers on one SQLite file with an `[executors.batch]` section (extra keys as kwargs)."""
    from redun import Scheduler

    def make(**extra):
        config = {
            "backend": {"db_uri": f"sqlite:///{tmp_path / 'redun.db'}"},
            "executors.batch": batch_setup.executor_config(**extra),
        }
        return Scheduler(config=config)

    return make


@pytest.fixture
def glue_wf(moto, tmp_path_factory, monkeypatch):
    """The Glue test workflow in a fresh work dir, and a scheduler factory for it."""
    import importlib
    import shutil
    import sys
    from pathlib import Path

    from redun import Scheduler

    moto.client("s3").create_bucket(Bucket="redun-glue-test")
    workdir = tmp_path_factory.mktemp("glue-workflow")
    shutil.copy(Path(__file__).with_name("glue_workflow.py"), workdir / "glue_workflow.py")
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    module = sys.modules.get("glue_workflow") or importlib.import_module("glue_workflow")

    def scheduler(**extra):
        section = {
            "type": "aws_glue",
            "s3_scratch": "s3://redun-glue-test/redun",
            "role": "arn:aws:iam::123456789012:role/redun-glue",
            "job_monitor_interval": "0.3",
            "job_retry_interval": "1",
            **extra,
        }
        config = {
            "backend": {"db_uri": f"sqlite:///{workdir / 'redun.db'}"},
            "executors.glue": section,
        }
        return Scheduler(config=config)

    module.scheduler = scheduler
    return module
