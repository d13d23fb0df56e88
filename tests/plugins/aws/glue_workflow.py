"""Tasks the AWS Glue tests run through the Glue job-run emulator."""

import json
import time

from redun import File, task
from redun_aws.glue import get_spark_session

redun_namespace = "aws_glue_test"


@task(executor="glue")
def glue_add(a: int, b: int) -> int:
    return a + b


@task(executor="glue")
def glue_fail(message: str) -> None:
    print("glue log line before failing", flush=True)
    raise ValueError(message)


@task(executor="glue")
def glue_sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


@task(executor="glue")
def word_count(path: str) -> dict:
    """Real Spark: count the words of an S3 file, write the counts next to it."""
    spark = get_spark_session()
    words = [(word,) for line in File(path).read().splitlines() for word in line.split()]
    frame = spark.createDataFrame(words, ["word"])
    counts = {row["word"]: row["count"] for row in frame.groupBy("word").count().collect()}
    File(path + ".counts.json").write(json.dumps(counts, sort_keys=True))
    return counts
