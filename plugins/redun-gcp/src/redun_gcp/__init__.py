"""Google Cloud backends for redun: GCS files and the GCP Batch executor."""

__version__ = "0.1.0"
