"""Tests of redun-gcp: skipped as a whole when the distribution is not installed.

A GCS emulator (fake-gcs-server) runs once per session on 127.0.0.1; each
test gets a fresh bucket, so tests never see each other's objects.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

pytest.importorskip("redun_gcp", reason="redun-gcp is not installed")

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
