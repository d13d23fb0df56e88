"""ShardedS3Dataset on moto's S3: shards, redun's hash, validity, from_files, pickling."""

from __future__ import annotations

import os
import pickle

import pytest
from redun import File
from redun.hashing import hash_struct
from redun_aws.dataset import ShardedS3Dataset

from tests.helpers.moto_server import MotoServer

ROOT = "s3://redun-shards/data"


@pytest.fixture
def shards(moto: MotoServer) -> list[str]:
    moto.client("s3").create_bucket(Bucket="redun-shards")
    paths = [f"{ROOT}/part-0.csv", f"{ROOT}/sub/part-1.csv"]
    for index, path in enumerate(paths):
        File(path).write(f"x,y\n{index},{index * 2}\n")
    File(f"{ROOT}/_SUCCESS").write("")
    return paths


def test_shards_and_redun_hash(shards: list[str]) -> None:
    dataset = ShardedS3Dataset(ROOT, format="csv")
    assert dataset.filenames == sorted(shards)
    assert dataset.hash == hash_struct(["ShardedS3Dataset", ROOT] + sorted(shards))
    assert ShardedS3Dataset(ROOT, format="csv", recurse=False).filenames == [shards[0]]
    assert dataset.is_valid()
    File(f"{ROOT}/part-2.csv").write("x,y\n")
    assert not dataset.is_valid()
    again = pickle.loads(pickle.dumps(dataset))
    assert again.hash == dataset.hash and again.filenames == dataset.filenames


def test_from_files_and_bad_input(shards: list[str]) -> None:
    dataset = ShardedS3Dataset.from_files([File(path) for path in shards])
    assert dataset.path == ROOT and dataset.format == "csv"
    with pytest.raises(ValueError, match="other .csv files"):
        ShardedS3Dataset.from_files([File(shards[0])])
    with pytest.raises(ValueError, match="format 'xls' is not one of"):
        ShardedS3Dataset(ROOT, format="xls")


def test_load_pandas(shards: list[str]) -> None:
    if os.environ.get("REDUN_REQUIRE_SPARK") == "1":
        import pandas  # .ci/run installs it with the spark group
    else:
        pandas = pytest.importorskip("pandas")
    frame = ShardedS3Dataset(ROOT, format="csv").load_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert sorted(frame["y"].tolist()) == [0, 2]


def test_recorded_type_name_resolves_through_the_plugin() -> None:
    from redun.plugins.manager import get_plugin_manager

    spec = get_plugin_manager().value_type_specs()["redun.ShardedS3Dataset"]
    assert spec.target == "redun_aws.dataset"
