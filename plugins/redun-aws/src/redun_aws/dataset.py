"""``ShardedS3Dataset``: a dataset stored as many shard files under one S3 prefix.

Its hash is redun's, ``["ShardedS3Dataset", path] + sorted(shard paths)``, so
a dataset is unchanged while the set of its shard files is. Listing,
hashing and pandas loading work without Spark; ``load_spark`` and
``save_spark`` need pyspark (on Glue, the aws_glue executor provides it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from redun.file import File, glob_file
from redun.hashing import hash_struct
from redun.value import Value

FORMATS = ("avro", "csv", "ion", "grokLog", "json", "orc", "parquet", "xml")


class ShardedS3Dataset(Value):
    """The shards of one format under an S3 prefix (recursively by default)."""

    type_name = "redun.ShardedS3Dataset"

    def __init__(self, path: str, format: str = "parquet", recurse: bool = True) -> None:
        if format not in FORMATS:
            raise ValueError(f"ShardedS3Dataset format {format!r} is not one of {FORMATS}")
        if not path.startswith("s3://"):
            raise ValueError(f"ShardedS3Dataset needs an s3:// path, not {path!r}")
        self._path = path.rstrip("/")
        self._format = format
        self._recurse = recurse
        self._filenames = self._gather()
        self._hash = self._calc_hash()

    @property
    def path(self) -> str:
        return self._path

    @property
    def format(self) -> str:
        return self._format

    @property
    def recurse(self) -> bool:
        return self._recurse

    @property
    def filenames(self) -> list[str]:
        return list(self._filenames)

    def _gather(self) -> list[str]:
        pattern = f"{self._path}/{'**/' if self._recurse else ''}*.{self._format}"
        return sorted(glob_file(pattern))

    def _calc_hash(self) -> str:
        return hash_struct(["ShardedS3Dataset", self._path] + sorted(self._filenames))

    def update_hash(self) -> None:
        self._filenames = self._gather()
        self._hash = self._calc_hash()

    @property
    def hash(self) -> str:
        return self._hash

    def get_hash(self, data: bytes | None = None) -> str:
        return self._hash

    def is_valid(self) -> bool:
        """Valid while the same shard files are there."""
        return self._calc_hash() == hash_struct(["ShardedS3Dataset", self._path] + self._gather())

    def __repr__(self) -> str:
        return (
            f"ShardedS3Dataset(path={self._path}, format={self._format}, "
            f"shards={len(self._filenames)}, hash={self._hash[:8]})"
        )

    def __getstate__(self) -> dict:
        return {
            "path": self._path,
            "format": self._format,
            "recurse": self._recurse,
            "filenames": self._filenames,
            "hash": self._hash,
        }

    def __setstate__(self, state: dict) -> None:
        self._path = state["path"]
        self._format = state["format"]
        self._recurse = state["recurse"]
        self._filenames = state["filenames"]
        self._hash = state["hash"]

    def iter_subvalues(self) -> Iterator[Value]:
        return iter(File(name) for name in self._filenames)

    @classmethod
    def from_files(
        cls, files: list[File], format: str | None = None, allow_additional_files: bool = False
    ) -> ShardedS3Dataset:
        """The dataset whose shards are exactly `files` (all under one prefix)."""
        if not files:
            raise ValueError("ShardedS3Dataset.from_files needs at least one file")
        paths = [file.path for file in files]
        prefix = paths[0].rsplit("/", 1)[0]
        for path in paths:
            while not path.startswith(prefix + "/"):
                prefix = prefix.rsplit("/", 1)[0]
        format = format or paths[0].rsplit(".", 1)[-1]
        dataset = cls(prefix, format=format, recurse=True)
        if not allow_additional_files and set(dataset.filenames) != set(paths):
            raise ValueError(
                f"{prefix} holds other .{format} files than those given; "
                "pass allow_additional_files=True to accept them"
            )
        return dataset

    def load_pandas_shards(self, max_shards: int = -1) -> list[Any]:
        """One pandas DataFrame per shard (csv, json, parquet; needs pandas)."""
        import pandas

        readers = {"csv": pandas.read_csv, "json": pandas.read_json, "parquet": pandas.read_parquet}
        if self._format not in readers:
            raise ValueError(f"load_pandas cannot read {self._format!r} shards; use load_spark")
        names = self._filenames if max_shards < 0 else self._filenames[:max_shards]
        frames = []
        for name in names:
            with File(name).open("rb") as infile:
                frames.append(readers[self._format](infile))
        return frames

    def load_pandas(self, max_shards: int = -1) -> Any:
        """All shards as one pandas DataFrame."""
        import pandas

        frames = self.load_pandas_shards(max_shards)
        return pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame()

    def load_spark(self, validate: bool = False, format_options: dict | None = None) -> Any:
        """The shards as a Spark DataFrame (needs pyspark; s3 paths need s3a on Spark)."""
        from redun_aws.glue import get_spark_session

        reader = get_spark_session().read.format(self._format).options(**(format_options or {}))
        return reader.load([name.replace("s3://", "s3a://", 1) for name in self._filenames])

    def purge_spark(self) -> None:
        """Delete this dataset's shard files (redun's version purged through Glue)."""
        for name in self._filenames:
            File(name).remove()
        self.update_hash()
