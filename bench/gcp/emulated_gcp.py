"""Run any command against the GCS and GCP Batch emulators of the test suite.

Local verification, not a test: starts fake-gcs-server, a bucket, and the
Batch emulator (tasks in podman, image from `images/build.sh`), prints the
redun.ini values that point an executor at them, then runs the command with
STORAGE_EMULATOR_HOST set. Used to run redun's own examples/gcp_batch
unchanged but for its redun.ini (see plugins/redun-gcp/README.md):

    source build/podman/env.sh
    .venv/bin/python bench/gcp/emulated_gcp.py --workdir /tmp/gcp_batch --ini \\
        -- redun run workflow.py main
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.update(
    NO_GCE_CHECK="true", GCE_METADATA_HOST="127.0.0.1:1", GCE_METADATA_IP="127.0.0.1:1"
)

from tests.plugins.gcp.batch_emulator import BatchEmulator  # noqa: E402
from tests.plugins.gcp.gcs_server import GCSServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=".", help="where to run the command")
    parser.add_argument("--image", default="localhost/redun:test")
    parser.add_argument("--bucket", default="redun-example")
    parser.add_argument("--ini", action="store_true", help="set .redun/redun.ini's values")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    gcs = GCSServer().start()
    os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
    from redun_gcp.gcs import get_client

    get_client().create_bucket(args.bucket)
    task_env = {
        key: os.environ[key] for key in ("NO_GCE_CHECK", "GCE_METADATA_HOST", "GCE_METADATA_IP")
    }
    batch = BatchEmulator(
        "example-project", "us-central1", {**task_env, "STORAGE_EMULATOR_HOST": gcs.url}
    ).start()
    values = {
        "project": batch.project,
        "region": batch.region,
        "gcs_scratch": f"gs://{args.bucket}/redun",
        "image": args.image,
        "api_endpoint": batch.url,
        "transport": "rest",
    }
    print("\n".join(f"{key} = {value}" for key, value in values.items()), file=sys.stderr)
    try:
        if args.ini:
            ini = Path(args.workdir) / ".redun" / "redun.ini"
            lines = []
            for line in ini.read_text().splitlines():
                key = line.split("=", 1)[0].strip()
                lines.append(f"{key} = {values.pop(key)}" if key in values else line)
            lines += [f"{key} = {value}" for key, value in values.items()]
            ini.write_text("\n".join(lines) + "\n")
        command = [part for part in args.command if part != "--"]
        return subprocess.run(command, cwd=args.workdir).returncode if command else 0
    finally:
        batch.stop()
        gcs.stop()


if __name__ == "__main__":
    sys.exit(main())
