"""Measure google-cloud-storage against gcsfs for what the gs:// filesystem does.

Not a test: it decides (and documents) which client redun-gcp builds on.
Runs both clients against one fake-gcs-server on 127.0.0.1 (the test
session's emulator) and prints a table; the figures go in the plugin README.

    .venv/bin/pip install gcsfs                      # only needed for this comparison
    .venv/bin/python bench/gcp/gcs_clients.py [--objects 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.update(
    NO_GCE_CHECK="true",
    GCE_METADATA_HOST="127.0.0.1:1",
    GCE_METADATA_IP="127.0.0.1:1",
    GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false",
)

from tests.plugins.gcp.gcs_server import GCSServer  # noqa: E402

IMPORTS = {
    "google-cloud-storage": "from google.cloud import storage",
    "gcsfs": "import gcsfs",
}


def import_seconds(statement: str, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        runs.append(float(out.stdout))
    return statistics.median(runs)


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    """Best of `repeat` runs: the emulator shares the machine with the client."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def bench_storage(bucket: str, count: int, big: bytes) -> dict[str, float]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=None, credentials=AnonymousCredentials())
    client.create_bucket(bucket)
    b = client.bucket(bucket)
    return {
        "write small": timed(
            lambda: [b.blob(f"d/{i}.txt").upload_from_string(b"x" * 100) for i in range(count)]
        ),
        "stat (hash)": timed(lambda: [b.get_blob(f"d/{i}.txt").md5_hash for i in range(count)]),
        "read small": timed(
            lambda: [b.blob(f"d/{i}.txt").download_as_bytes() for i in range(count)]
        ),
        "list dir": timed(lambda: [x.md5_hash for x in client.list_blobs(bucket, prefix="d/")]),
        "upload 32 MiB": timed(lambda: b.blob("big", chunk_size=16 << 20).upload_from_string(big)),
        "download 32 MiB": timed(lambda: b.blob("big").download_as_bytes()),
    }


def bench_gcsfs(bucket: str, count: int, big: bytes) -> dict[str, float]:
    import gcsfs

    fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=os.environ["STORAGE_EMULATOR_HOST"])
    fs.mkdir(bucket)

    def write_small() -> None:
        for i in range(count):
            with fs.open(f"{bucket}/d/{i}.txt", "wb") as out:
                out.write(b"x" * 100)

    return {
        "write small": timed(write_small),
        "stat (hash)": timed(
            lambda: [fs.info(f"{bucket}/d/{i}.txt", refresh=True)["md5Hash"] for i in range(count)]
        ),
        "read small": timed(lambda: [fs.cat_file(f"{bucket}/d/{i}.txt") for i in range(count)]),
        "list dir": timed(lambda: fs.ls(f"{bucket}/d", detail=True, refresh=True)),
        "upload 32 MiB": timed(lambda: fs.pipe_file(f"{bucket}/big", big)),
        "download 32 MiB": timed(lambda: fs.cat_file(f"{bucket}/big")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200)
    args = parser.parse_args()
    server = GCSServer().start()
    os.environ["STORAGE_EMULATOR_HOST"] = server.url
    big = os.urandom(32 << 20)
    try:
        results = {"google-cloud-storage": bench_storage("bench-storage", args.objects, big)}
        try:
            results["gcsfs"] = bench_gcsfs("bench-gcsfs", args.objects, big)
        except ImportError:
            print("gcsfs is not installed: pip install gcsfs to compare", file=sys.stderr)
    finally:
        server.stop()
    names = list(results)
    print(f"| operation ({args.objects} objects) | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    row = [f"{import_seconds(IMPORTS[name]):.2f} s" for name in names]
    print("| import | " + " | ".join(row) + " |")
    for operation in results[names[0]]:
        cells = " | ".join(f"{results[name][operation]:.2f} s" for name in names)
        print(f"| {operation} | {cells} |")


if __name__ == "__main__":
    main()
