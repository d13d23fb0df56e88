"""AWS backends for redun: S3 files, AWS Batch and AWS Glue executors, `redun aws` commands."""

__version__ = "0.1.0"
