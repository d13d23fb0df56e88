"""The s3:// filesystem against moto's S3 server: conformance, redun's hash, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from redun.file import Dir, File, FileSet, get_filesystem
from redun.hashing import hash_struct
from redun.testing.filesystem_conformance import FileSystemConformance

from tests.helpers.moto_server import MotoServer

BUCKET = "redun-test-bucket"


@pytest.fixture
def bucket(moto: MotoServer) -> str:
    moto.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


class TestS3Conformance(FileSystemConformance):
    @pytest.fixture
    def fs_root(self, bucket: str) -> str:
        return f"s3://{bucket}/root"


def test_file_hash_is_redun_recipe_with_the_etag(bucket: str, moto: MotoServer) -> None:
    path = f"s3://{bucket}/data/x.txt"
    File(path).write("hello")
    etag = moto.client("s3").head_object(Bucket=bucket, Key="data/x.txt")["ETag"]
    assert etag.startswith('"')
    assert File(path).hash == hash_struct(["File", "s3", path, etag])
    assert File(f"s3://{bucket}/data/missing").hash == hash_struct(
        ["File", "s3", f"s3://{bucket}/data/missing", ""]
    )


def test_dir_hash_comes_from_one_listing(bucket: str, moto: MotoServer) -> None:
    for name in ("a", "b/c"):
        File(f"s3://{bucket}/tree/{name}").write(name)
    before = moto.calls()
    hashes = sorted(get_filesystem("s3").iter_file_hashes(f"s3://{bucket}/tree"))
    after = moto.calls()
    assert hashes == sorted(File(f"s3://{bucket}/tree/{n}").hash for n in ("a", "b/c"))
    assert after.get("s3:get", 0) - before.get("s3:get", 0) == 1
    assert after.get("s3:head", 0) == before.get("s3:head", 0)


def test_glob_star_double_star_and_directories(bucket: str) -> None:
    for name in ("a.txt", "b.csv", "sub/c.txt", "sub/deep/d.txt"):
        File(f"s3://{bucket}/g/{name}").write("x")
    root = f"s3://{bucket}/g"
    fs = get_filesystem("s3")
    assert fs.glob(f"{root}/*") == [f"{root}/a.txt", f"{root}/b.csv", f"{root}/sub"]
    assert fs.glob(f"{root}/**/*.txt") == [
        f"{root}/a.txt",
        f"{root}/sub/c.txt",
        f"{root}/sub/deep/d.txt",
    ]
    assert fs.glob(f"{root}/sub/*/d.txt") == [f"{root}/sub/deep/d.txt"]
    assert fs.glob(f"{root}/[ab].*") == [f"{root}/a.txt", f"{root}/b.csv"]
    assert sorted(f.path for f in FileSet(f"{root}/**/*.txt")) == fs.glob(f"{root}/**/*.txt")


def test_mkdir_marker_is_a_directory_not_a_file(bucket: str) -> None:
    path = f"s3://{bucket}/made"
    Dir(path).mkdir()
    fs = get_filesystem("s3")
    assert fs.isdir(path) and not fs.isfile(path)
    assert list(Dir(path)) == []
    with pytest.raises(OSError, match="not empty"):
        File(f"{path}/inner").write("x")
        fs.rmdir(path)


def test_copy_within_s3_is_server_side(bucket: str, moto: MotoServer) -> None:
    src = File(f"s3://{bucket}/big/src.bin")
    src.write(b"z" * 2048, mode="wb")
    before = moto.calls()
    dest = src.copy_to(File(f"s3://{bucket}/big/dest.bin"))
    after = moto.calls()
    assert dest.read("rb") == b"z" * 2048
    # A CopyObject is a PUT with x-amz-copy-source; the bytes never come to us.
    assert after.get("s3:get", 0) == before.get("s3:get", 0)
    assert after["s3:put"] - before.get("s3:put", 0) == 1


def test_large_upload_and_download_use_multipart(bucket: str, tmp_path: Path) -> None:
    from redun_aws import s3

    local = tmp_path / "large.bin"
    local.write_bytes(os.urandom(1024) * (s3.TRANSFER_CONFIG.multipart_threshold // 1024 + 10))
    remote = File(str(local)).copy_to(File(f"s3://{bucket}/large.bin"))
    # A multipart upload's ETag is "<md5 of part md5s>-<parts>".
    head = get_filesystem("s3").client().head_object(Bucket=bucket, Key="large.bin")
    assert int(head["ETag"].strip('"').split("-")[-1]) >= 2
    back = remote.copy_to(File(str(tmp_path / "back" / "large.bin")))
    assert Path(back.path).read_bytes() == local.read_bytes()


def test_append_and_exclusive_modes(bucket: str) -> None:
    path = f"s3://{bucket}/append.txt"
    File(path).write("one\n")
    with File(path).open("a") as out:
        out.write("two\n")
    assert File(path).read() == "one\ntwo\n"
    with pytest.raises(OSError, match="File exists"):
        File(path).open("x")


def test_missing_bucket_names_the_bucket(moto: MotoServer) -> None:
    with pytest.raises(FileNotFoundError, match="bucket 'no-such-bucket' does not exist"):
        File("s3://no-such-bucket/x.txt").write("x")
    assert not File("s3://no-such-bucket/x.txt").exists()


def test_access_denied_names_bucket_key_and_operation(bucket: str, moto: MotoServer) -> None:
    import json

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/secret/*",
            }
        ],
    }
    File(f"s3://{bucket}/secret/k").write("x")
    moto.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with pytest.raises(PermissionError) as info:
        File(f"s3://{bucket}/secret/k").read()
    message = str(info.value)
    assert "GetObject" in message and repr(bucket) in message and "'secret/k'" in message


def test_no_credentials_is_one_line(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from redun_aws import aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(aws.AWSError, match="No AWS credentials found for S3 GetObject"):
        File(f"s3://{bucket}/none").read()


def test_endpoint_for_s3_alone(bucket: str, moto: MotoServer, monkeypatch) -> None:
    """AWS_ENDPOINT_URL_S3 (an S3-compatible store) wins over the general endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint)
    File(f"s3://{bucket}/via-s3-endpoint").write("ok")
    assert File(f"s3://{bucket}/via-s3-endpoint").read() == "ok"


def test_shell_copy_uses_redun_fs_cp(bucket: str) -> None:
    fs = get_filesystem("s3")
    assert fs.shell_copy(f"s3://{bucket}/a", "local/a") == f"redun fs cp s3://{bucket}/a local/a"
    assert fs.shell_copy(None, f"s3://{bucket}/a") == f"redun fs cp - s3://{bucket}/a"
    assert File(f"s3://{bucket}/a").shell_copy_to(None) == f"redun fs cp s3://{bucket}/a -"
    assert Dir(f"s3://{bucket}/d").shell_copy_to("out") == (
        f"redun fs cp --recursive s3://{bucket}/d out"
    )


def test_redun_fs_cp_ls_cat_on_s3(bucket: str, tmp_path: Path, moto: MotoServer) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": moto.endpoint}
    redun = [str(Path(sys.executable).with_name("redun"))]
    local = tmp_path / "in.txt"
    local.write_text("via the cli\n")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*redun, "fs", *args], capture_output=True, text=True, env=env, input=stdin
        )

    assert run("cp", str(local), f"s3://{bucket}/cli/in.txt").returncode == 0
    assert run("cp", "-", f"s3://{bucket}/cli/sub/piped.txt", stdin="piped\n").returncode == 0
    assert run("cat", f"s3://{bucket}/cli/in.txt").stdout == "via the cli\n"
    listing = run("ls", f"s3://{bucket}/cli").stdout.split()
    assert listing == [f"s3://{bucket}/cli/in.txt", f"s3://{bucket}/cli/sub/"]
    out = tmp_path / "tree"
    assert run("cp", "--recursive", f"s3://{bucket}/cli", str(out)).returncode == 0
    assert (out / "sub" / "piped.txt").read_text() == "piped\n"
    missing = run("cat", f"s3://{bucket}/cli/missing.txt")
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "missing.txt" in missing.stderr


def test_process_executor_workers_get_their_own_clients(bucket: str, tmp_path: Path) -> None:
    """Forked workers must not reuse the parent's boto3 client."""
    from redun_aws import aws

    File(f"s3://{bucket}/fork.txt").write("parent")
    parent_client = aws.client("s3")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        ok = aws.client("s3") is not parent_client and File(f"s3://{bucket}/fork.txt").read()
        os.write(write, b"ok" if ok == "parent" else b"bad")
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"ok"
