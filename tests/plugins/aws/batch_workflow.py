"""Tasks the AWS Batch tests run in real containers (copied into each test's work dir)."""

import os
import time

from redun import File, script, task

redun_namespace = "aws_batch_test"


@task(executor="batch")
def write_lines(path: str, n: int) -> File:
    file = File(path)
    file.write("".join(f"line {i}\n" for i in range(n)))
    return file


@task(executor="batch")
def count_lines(file: File) -> int:
    return len(file.read().splitlines())


@task(executor="batch")
def shout(src: File, dest: str) -> File:
    """A script task on Batch: stages in and out of S3 with `redun fs cp`."""
    return script(
        "tr a-z A-Z < in.txt > out.txt",
        inputs=[src.stage("in.txt")],
        outputs=File(dest).stage("out.txt"),
        executor="batch",
    )


@task(executor="batch")
def square(x: int) -> int:
    return x * x


@task(executor="batch")
def pipeline(prefix: str, n: int = 20) -> dict:
    lines = write_lines(f"{prefix}/lines.txt", 3)
    return {
        "count": count_lines(lines),
        "shouted": shout(lines, f"{prefix}/shouted.txt"),
        "squares": [square(i) for i in range(n)],
    }


@task(executor="batch")
def fail(message: str) -> None:
    print("batch log line before failing", flush=True)
    raise ValueError(message)


@task(executor="batch")
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


@task(executor="batch")
def flaky(path: str, failures: int) -> str:
    attempts = File(path)
    count = len(attempts.read().splitlines()) if attempts.exists() else 0
    attempts.write("attempt\n" * (count + 1))
    if count < failures:
        raise RuntimeError("flaky failure")
    return "recovered"


@task(executor="batch")
def nodes(prefix: str) -> dict:
    index = os.environ.get("AWS_BATCH_JOB_NODE_INDEX", "?")
    File(f"{prefix}/node-{index}").write(index)
    if index != os.environ.get("AWS_BATCH_JOB_MAIN_NODE_INDEX"):
        time.sleep(1)
    return {"node": index, "nodes": os.environ.get("AWS_BATCH_JOB_NUM_NODES")}


@task(executor="batch")
def squares(n: int) -> list:
    return [square(i) for i in range(n)]
