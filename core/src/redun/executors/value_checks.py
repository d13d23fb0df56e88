"""Values a job is about to run with, or has returned, that are almost certainly mistakes.

Cheap checks, run only on non-plain values (plain ones cannot hold these).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

from redun.utils import iter_nested_value


class OpenFileResult(TypeError):
    """A task returned an open file: caching it would store a copy of its contents."""


def check_result(task_name: str, value: Any) -> None:
    if isinstance(value, io.IOBase):
        raise OpenFileResult(
            f"{task_name} returned an open file ({type(value).__name__}), which cannot be "
            "recorded; return File(path) or the file's contents instead"
        )


def path_warnings(args: Any) -> Iterator[tuple[str, str]]:
    """(path, problem) for local File and Dir arguments that do not look as meant."""
    from redun.file import Dir, File, get_proto

    for value in iter_nested_value(args):
        if isinstance(value, File):
            if get_proto(value.path) == "local" and not os.path.exists(value.path):
                yield value.path, "File argument does not exist"
        elif isinstance(value, Dir) and get_proto(value.path) == "local":
            if os.path.isfile(value.path):
                yield value.path, "Dir argument is a regular file, not a directory"
            elif not os.path.exists(value.path):
                yield value.path, "Dir argument does not exist"
