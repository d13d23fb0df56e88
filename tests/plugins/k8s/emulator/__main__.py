"""Run the emulator: ``python -m tests.plugins.k8s.emulator [--port N]``.

Prints ``READY <port>`` once serving; SIGTERM or SIGINT stops it and removes
every container it started.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.plugins.k8s.emulator.api import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", default="8", help="allocatable cpu of the emulated node")
    parser.add_argument("--memory", default="32Gi", help="allocatable memory of the emulated node")
    parser.add_argument("--tick", type=float, default=0.1, help="controller period, seconds")
    parser.add_argument(
        "--processes", action="store_true", help="run pods as host processes (benchmarks only)"
    )
    args = parser.parse_args()
    allocatable = {
        "cpu": args.cpu,
        "memory": args.memory,
        "ephemeral-storage": "100Gi",
        "pods": "110",
    }
    server, emulator = serve(
        args.port, processes=args.processes, allocatable=allocatable, tick=args.tick
    )
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        emulator.controller.stop()
        emulator.controller.kubelet.close()
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
