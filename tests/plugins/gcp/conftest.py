"""Tests of redun-gcp: skipped as a whole when the distribution is not installed.

A GCS emulator (fake-gcs-server) runs once per session on 127.0.0.1; each
test gets a fresh bucket, so tests never see each other's objects. The GCP
Batch emulator (batch_emulator.py) runs its tasks in the session's test image.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

pytest.importorskip("redun_gcp", reason="redun-gcp is not installed")

from tests.plugins.gcp.batch_emulator import BatchEmulator
from tests.plugins.gcp.gcs_server import GCSServer

_bucket_numbers = itertools.count()


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GCSServer]:
    """fake-gcs-server on loopback, with STORAGE_EMULATOR_HOST pointing at it."""
    server = GCSServer().start()
    saved = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = server.url
    try:
        yield server
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = saved


@pytest.fixture
def gcs_bucket(gcs_server: GCSServer) -> str:
    """The name of a new, empty bucket."""
    from redun_gcp.gcs import get_client

    name = f"redun-test-{os.getpid()}-{next(_bucket_numbers)}"
    get_client().create_bucket(name)
    return name


# Variables every emulated Batch task gets, as a GCE VM's metadata would provide:
# the storage emulator, and never a metadata-server lookup.
TASK_ENV_KEYS = ("NO_GCE_CHECK", "GCE_METADATA_HOST", "GCE_METADATA_IP")
PROJECT = "redun-test-project"
REGION = "us-central1"


@pytest.fixture(scope="session")
def batch_server(
    container_image: str, gcs_server: GCSServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BatchEmulator]:
    """The GCP Batch emulator; the session's temp dir is visible in every task container."""
    task_env = {key: os.environ[key] for key in TASK_ENV_KEYS}
    task_env["STORAGE_EMULATOR_HOST"] = gcs_server.url
    emulator = BatchEmulator(
        PROJECT,
        REGION,
        task_env=task_env,
        host_volumes=[str(tmp_path_factory.getbasetemp())],
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def batch(batch_server: BatchEmulator) -> Iterator[BatchEmulator]:
    """The emulator, emptied after the test; a test must leave no container behind."""
    yield batch_server
    leftover = batch_server.containers()
    batch_server.reset()
    assert leftover == [], f"containers left by the test: {leftover}"


def gcp_config(batch: BatchEmulator, bucket: str, image: str, **extra: str) -> dict[str, str]:
    """An [executors.X] section of type gcp_batch pointed at the emulators."""
    return {
        "type": "gcp_batch",
        "project": batch.project,
        "region": batch.region,
        "gcs_scratch": f"gs://{bucket}/redun",
        "image": image,
        "api_endpoint": batch.url,
        "transport": "rest",
        "machine_type": "e2-standard-2",
        "job_monitor_interval": "0.2",
        "job_stale_time": "0.5",
        **extra,
    }
