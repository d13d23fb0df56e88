"""A process that records executions into a database (run by concurrency and crash tests).

Usage: python -m tests.core.backends.writer_process DB_URI NAME JOBS FLUSH_EVERY [--hang]

Records execution NAME with a root job and JOBS child jobs (each with a call
node; values shared between processes, so inserts collide on purpose),
flushing every FLUSH_EVERY jobs. With --hang it then starts one more job,
flushes, prints "HANGING" and sleeps until killed.
"""

from __future__ import annotations

import sys
import time

from redun.backends.db import RedunBackendDb

from tests.core.backends.helpers import make_task, record_call


def main() -> None:
    uri, name, jobs, flush_every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    backend = RedunBackendDb(uri, config={"automigrate": "true"})
    backend.load()
    root_task, task = make_task("root"), make_task("step")
    backend.record_execution(name, ["redun", "run", name], f"{name}-root")
    backend.record_job_start(f"{name}-root", root_task, name, None, False)
    for i in range(jobs):
        job_id = f"{name}-{i}"
        backend.record_job_start(job_id, task, name, f"{name}-root", False)
        call_hash, args_hash = record_call(backend, task, [i], i * 10)
        backend.set_eval_cache(
            f"{i:040d}", task.hash, args_hash, i * 10, backend.record_value(i * 10)
        )
        backend.record_job_end(job_id, call_hash)
        if (i + 1) % flush_every == 0:
            backend.flush()
            print(f"FLUSHED {i + 1}", flush=True)
    backend.flush()
    if "--hang" in sys.argv:
        backend.record_job_start(f"{name}-last", task, name, f"{name}-root", False)
        backend.flush()
        print("HANGING", flush=True)
        time.sleep(600)
    backend.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
