"""gs:// passes the filesystem conformance suite against the GCS emulator."""

from __future__ import annotations

import pytest
from redun.testing.filesystem_conformance import FileSystemConformance


class TestGSFileSystem(FileSystemConformance):
    @pytest.fixture
    def fs_root(self, gcs_bucket: str) -> str:
        return f"gs://{gcs_bucket}/root"
