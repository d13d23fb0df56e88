import pytest
from redun.testing.filesystem_conformance import FileSystemConformance


class TestLocalFileSystemConformance(FileSystemConformance):
    @pytest.fixture
    def fs_root(self, tmp_path):
        return str(tmp_path / "root")
