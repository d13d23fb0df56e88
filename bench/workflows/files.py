"""File outputs: N tasks that each write and return a File.

Adds file hashing and, on the cached re-run, the validity check of every
cached File (redun re-hashes files to notice changes on disk).
"""

from redun import File, task

redun_namespace = "bench.files"


@task()
def write_file(path: str, i: int) -> File:
    out = File(path)
    out.write(str(i))
    return out


@task()
def count_files(files: list) -> int:
    return len(files)


@task()
def main(n: int = 1000) -> int:
    return count_files([write_file(f"bench_files/{i}.txt", i) for i in range(n)])
