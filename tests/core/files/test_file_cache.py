import os

import pytest
from redun.value import FileCache, InvalidValueError, get_type_registry


def test_file_cache_stores_data_in_files(tmp_path):
    class Blob:
        def __init__(self, data):
            self.data = data

    class BlobCache(FileCache):
        type = Blob
        base_path = str(tmp_path / "cache")

        def _serialize(self):
            return self.instance.data

        @classmethod
        def _deserialize(cls, data):
            return Blob(data)

    registry = get_type_registry()
    stored = registry.serialize(Blob(b"payload"))
    path = stored.decode()
    assert path.startswith(str(tmp_path / "cache"))
    assert open(path, "rb").read() == b"payload"
    assert registry.get_value(Blob(b"")).__class__ is BlobCache
    assert BlobCache.deserialize(Blob, stored).data == b"payload"

    os.remove(path)
    with pytest.raises(InvalidValueError, match="no longer exists"):
        BlobCache.deserialize(Blob, stored)
