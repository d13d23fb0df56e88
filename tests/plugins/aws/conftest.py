"""Tests of redun-aws: skipped as a whole when the distribution is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("redun_aws", reason="redun-aws is not installed")


@pytest.fixture
def batch_setup(moto, moto_docker):
    """A Batch queue on the reset moto server whose jobs run in the test image."""
    from tests.plugins.aws.batch_env import create_batch

    return create_batch(moto, moto_docker)
