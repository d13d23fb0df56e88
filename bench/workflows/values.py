"""Large values: one task returns N MiB of bytes, another takes it as input.

Shows what a large result costs (hashing, pickling, storing, loading on the
cached re-run) and, through peak RSS, how many copies are alive at once.
"""

from redun import task

redun_namespace = "bench.values"


@task()
def make_blob(mib: int) -> bytes:
    return b"x" * (mib * 1024 * 1024)


@task()
def blob_size(blob: bytes) -> int:
    return len(blob)


@task()
def main(n: int = 1) -> int:
    return blob_size(make_blob(n))
