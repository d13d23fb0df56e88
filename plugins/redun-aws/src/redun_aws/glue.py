"""Helpers for tasks running on the ``aws_glue`` executor (redun's ``redun.glue``).

Inside a Glue job they use Glue's own ``awsglue`` package; anywhere else
(a local PySpark, a test) they fall back to a plain SparkSession, so a task
can be developed and tested off Glue. pyspark and awsglue are imported only
when a helper is called.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

_state: dict[str, Any] = {}


def setup_glue_job(job_name: str, job_args: dict[str, Any]) -> Any:
    """Start the Glue job object (``awsglue.job.Job``) for this run; None off Glue.

    Off Glue (no awsglue, or no pyspark) tasks still run: only the Spark
    helpers need them.
    """
    try:
        from awsglue.job import Job

        context = get_glue_context()
    except ImportError:
        return None
    job = Job(context)
    job.init(job_name, job_args)
    _state["job"] = job
    return job


def get_spark_context() -> Any:
    """The SparkContext of this job (created on first use)."""
    if "spark_context" not in _state:
        from pyspark import SparkContext

        _state["spark_context"] = SparkContext.getOrCreate()
    return _state["spark_context"]


def get_glue_context() -> Any:
    """Glue's GlueContext over the SparkContext (needs the awsglue package)."""
    if "glue_context" not in _state:
        from awsglue.context import GlueContext

        _state["glue_context"] = GlueContext(get_spark_context())
    return _state["glue_context"]


def get_spark_session() -> Any:
    """The SparkSession of this job: Glue's when on Glue, else a local one."""
    try:
        return get_glue_context().spark_session
    except ImportError:
        from pyspark.sql import SparkSession

        return SparkSession.builder.getOrCreate()


def get_num_workers() -> int:
    """Glue workers of this run (``--NUM_WORKERS``, set by the executor), else Spark's executors."""
    if os.environ.get("REDUN_GLUE_NUM_WORKERS"):
        return int(os.environ["REDUN_GLUE_NUM_WORKERS"])
    conf = get_spark_context().getConf()
    return int(conf.get("spark.executor.instances", "1"))


def udf(wrapped: Callable | None = None, return_type: Any = None) -> Any:
    """``pyspark.sql.functions.udf`` (decorator or call), made only where Spark runs.

    Workflow modules apply it at import, on machines without Spark (or
    pyspark): there, as in redun, the function is returned unchanged.
    """
    if wrapped is None:
        return functools.partial(udf, return_type=return_type)
    if _active_spark_session() is None:
        return wrapped
    from pyspark.sql.functions import udf as spark_udf

    return spark_udf(wrapped, return_type) if return_type is not None else spark_udf(wrapped)


def _active_spark_session() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def sql_query(dataset: Any, query: str, dataset_name: str = "dataset") -> Any:
    """Run SQL over a DataFrame registered as the view `dataset_name`."""
    dataset.createOrReplaceTempView(dataset_name)
    return get_spark_session().sql(query)


def load_datacatalog_spark_dataset(
    database: str, table_name: str, hashfield: str | None = None, num_hashpartitions: int = 10
) -> Any:
    """A Glue Data Catalog table as a Spark DataFrame (Glue only)."""
    options = {}
    if hashfield:
        options = {"hashfield": hashfield, "hashpartitions": str(num_hashpartitions)}
    frame = get_glue_context().create_dynamic_frame.from_catalog(
        database=database, table_name=table_name, additional_options=options
    )
    return frame.toDF()


def clean_datacatalog_table(database: str, table: str, remove_older_than: int = 1) -> None:
    """Purge a catalog table's files older than `remove_older_than` hours (Glue only)."""
    get_glue_context().purge_table(database, table, options={"retentionPeriod": remove_older_than})
