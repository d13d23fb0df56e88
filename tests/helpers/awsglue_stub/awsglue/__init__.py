"""A stand-in for AWS Glue's ``awsglue`` package (its jars are not on PyPI), for tests.

Only what redun's Glue entry script and helpers use: GlueContext over a local
SparkContext, Job.init/commit and getResolvedOptions.
"""
