"""gs:// specifics against the GCS emulator: hashing, large and server-side copies, errors, CLI."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redun.file import Dir, File, FileSet, RedunFileNotFoundError, RedunPermissionError
from redun.hashing import hash_struct

REDUN = str(Path(sys.executable).parent / "redun")


def test_hash_is_checksum_and_generation(gcs_bucket: str) -> None:
    from redun_gcp.gcs import get_client

    path = f"gs://{gcs_bucket}/data.txt"
    File(path).write("hello")
    blob = get_client().bucket(gcs_bucket).get_blob("data.txt")
    assert File(path).hash == hash_struct(["File", "gs", path, blob.md5_hash, str(blob.generation)])
    assert File(f"gs://{gcs_bucket}/missing").hash == hash_struct(
        ["File", "gs", f"gs://{gcs_bucket}/missing", "", ""]
    )


def test_equal_size_rewrite_invalidates(gcs_bucket: str) -> None:
    """redun's size-only gs hash misses this change; ours must not."""
    file = File(f"gs://{gcs_bucket}/same-size.txt")
    file.write("aaaa")
    recorded = File(file.path)
    assert recorded.is_valid()
    File(file.path).write("bbbb")
    assert not recorded.is_valid()


def test_dir_and_fileset_hashes_follow_contents(gcs_bucket: str) -> None:
    root = f"gs://{gcs_bucket}/tree"
    for name in ("a.txt", "b.txt", "sub/c.log"):
        File(f"{root}/{name}").write(name)
    directory = Dir(root)
    first = directory.hash
    assert sorted(f.path for f in FileSet(f"{root}/*.txt")) == [f"{root}/a.txt", f"{root}/b.txt"]
    File(f"{root}/sub/c.log").write("changed")
    assert Dir(root).hash != first


def test_large_upload_is_resumable_and_copies_stay_server_side(
    gcs_bucket: str, tmp_path: Path
) -> None:
    from redun_gcp.gcs import MULTIPART_LIMIT

    data = os.urandom(MULTIPART_LIMIT + 1024 * 1024)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    remote = File(str(local)).copy_to(File(f"gs://{gcs_bucket}/big.bin"))
    assert remote.size() == len(data)
    copied = remote.copy_to(File(f"gs://{gcs_bucket}/copy/big.bin"))
    back = copied.copy_to(File(str(tmp_path / "back" / "big.bin")))
    assert Path(back.path).read_bytes() == data
    with File(f"gs://{gcs_bucket}/streamed.bin").open("wb") as out:
        for start in range(0, len(data), 1 << 20):
            out.write(data[start : start + (1 << 20)])
    assert File(f"gs://{gcs_bucket}/streamed.bin").read("rb") == data


def test_append_and_touch(gcs_bucket: str) -> None:
    file = File(f"gs://{gcs_bucket}/log.txt")
    file.write("one\n")
    with file.open("a") as out:
        out.write("two\n")
    assert file.read() == "one\ntwo\n"
    before = file.hash
    file.touch()
    assert file.hash != before and file.read() == "one\ntwo\n"


def test_missing_bucket_says_so(gcs_server: object) -> None:
    with pytest.raises(RedunFileNotFoundError, match="bucket gs://no-such-bucket does not exist"):
        File("gs://no-such-bucket/x.txt").write("x")
    with pytest.raises(RedunFileNotFoundError, match="does not exist; create it"):
        File("gs://no-such-bucket/x.txt").read()
    assert not File("gs://no-such-bucket/x.txt").exists()


def test_missing_object_in_existing_bucket(gcs_bucket: str) -> None:
    with pytest.raises(RedunFileNotFoundError, match="No such object"):
        File(f"gs://{gcs_bucket}/nothing.txt").read()


@pytest.fixture
def refusing_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An HTTP server answering 403 to everything, as GCS does without permission."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            body = b'{"error": {"code": 403, "message": "no storage.objects.get permission"}}'
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _refuse

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{server.server_port}")
    from redun_gcp import gcs

    monkeypatch.setattr(gcs, "_clients", gcs._Clients())
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_forbidden_is_one_line_with_a_hint(refusing_server: str) -> None:
    with pytest.raises(RedunPermissionError) as info:
        File("gs://locked/secret.txt").read()
    message = str(info.value)
    assert "GCS refused access (403" in message and "roles/storage" in message
    assert "gs://locked/secret.txt" in message and "\n" not in message


def test_no_credentials_is_one_line_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from redun_gcp import gcs

    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setattr(gcs, "_clients", gcs._Clients())
    with pytest.raises(RedunPermissionError, match="No Google credentials found: run `gcloud auth"):
        File("gs://any-bucket/x.txt").exists()


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([REDUN, *args], input=stdin, capture_output=True, env=os.environ.copy())


def test_redun_fs_cp_ls_cat(gcs_bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "in.txt"
    local.write_text("via the cli\n")
    root = f"gs://{gcs_bucket}/cli"
    assert cli("fs", "cp", str(local), f"{root}/in.txt").returncode == 0
    assert cli("fs", "cp", "-", f"{root}/sub/piped.txt", stdin=b"piped\n").returncode == 0
    listing = cli("fs", "ls", root)
    assert listing.stdout.decode().split() == [f"{root}/in.txt", f"{root}/sub/"]
    recursive = cli("fs", "ls", "--recursive", root).stdout.decode().split()
    assert recursive == [f"{root}/in.txt", f"{root}/sub/piped.txt"]
    both = cli("fs", "cat", f"{root}/in.txt", f"{root}/sub/piped.txt")
    assert both.stdout == b"via the cli\npiped\n"
    assert cli("fs", "cp", "--recursive", root, str(tmp_path / "down")).returncode == 0
    assert (tmp_path / "down/sub/piped.txt").read_text() == "piped\n"
    missing = cli("fs", "cat", f"gs://{gcs_bucket}/nope.txt")
    assert missing.returncode != 0
    assert missing.stderr.decode().strip().splitlines() == [
        f"Error: cannot read gs://{gcs_bucket}/nope.txt: No such object"
    ]


def test_shell_copy_commands(gcs_bucket: str) -> None:
    file = File(f"gs://{gcs_bucket}/in.txt")
    assert file.shell_copy_to("local.txt") == f"redun fs cp gs://{gcs_bucket}/in.txt local.txt"
    assert file.shell_copy_to("local.txt", as_mount=True) == (
        f"mkdir -p . && cp /mnt/disks/{gcs_bucket}/in.txt local.txt"
    )
    assert file.shell_copy_to(None, as_mount=True) == f"cat /mnt/disks/{gcs_bucket}/in.txt"
    staged = File("out.txt").stage("out.txt")
    assert staged.local.path == "out.txt"
    unstage = File("out.txt").shell_copy_to(file.path)
    assert f"gs://{gcs_bucket}/in.txt" in unstage
