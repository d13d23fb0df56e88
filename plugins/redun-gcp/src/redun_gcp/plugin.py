"""Entry point of redun-gcp (group `redun`).

Google Cloud backends for redun: GCS files and the GCP Batch executor.

The backend is not built yet, so this module implements no hooks: the
distribution is installed and listed by `redun plugins`, and asking for one of
its names explains that this version does not provide it.
"""
