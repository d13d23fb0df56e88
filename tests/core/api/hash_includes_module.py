"""A task whose hash includes a helper function (golden hashes come from redun 0.44.1)."""

from redun import task


def helper(x: int) -> int:
    return x + 1


def replacement(x: int) -> int:
    return x * 100


@task(namespace="api_hash", hash_includes=[helper])
def uses_helper(x: int) -> int:
    return helper(x)
