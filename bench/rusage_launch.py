"""Run a command as the child of this small process and report its peak RSS.

Linux starts a child's ru_maxrss from the resident set of the process that
forked it, so measured straight from a large process (pytest, a busy bench
runner) every command looks at least that big. Forked from this bare
interpreter instead, a command's figure is its own, with this launcher's few MB
as the floor. Usage: python -I -S rusage_launch.py REPORT.json ARGV...
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time


def main() -> int:
    report, argv = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    returncode = subprocess.call(argv)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(report, "w") as out:
        json.dump({"wall_s": wall, "maxrss_kb": peak_kb}, out)
    if returncode < 0:
        signal.signal(-returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -returncode)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
