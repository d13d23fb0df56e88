"""Task-level tracebacks and the error values recorded for failed jobs.

These are values (executors build them, the backend stores them, readers decode
them), so they sit with the value types rather than in the scheduler.
"""

from __future__ import annotations

import linecache
import os
import re
import traceback
from collections.abc import Iterator
from itertools import takewhile
from traceback import FrameSummary
from typing import Any

from redun.hashing import hash_struct
from redun.utils import trim_string
from redun.value import Value, get_type_registry

_PICKLE_MODULE = "redun.scheduler"
_REDUN_DIR = os.path.dirname(os.path.abspath(__file__))
# Frames from these places are the machinery that ran the user's code.
_MACHINERY_PREFIXES = (
    os.path.join(_REDUN_DIR, "executors"),
    os.path.join(_REDUN_DIR, "cli"),
    os.path.join(_REDUN_DIR, "promise.py"),
    os.path.join(_REDUN_DIR, "scheduler"),
)
_DEF_LINE = re.compile(r"^(async )? *def ")


class Frame(FrameSummary, Value):
    """One job in a task-level traceback: where the task is defined and its arguments."""

    __module__ = _PICKLE_MODULE
    type_name = "redun.Frame"

    def __init__(
        self,
        filename: str,
        lineno: int,
        name: str,
        locals: dict[str, Any],
        lookup_line: bool = True,
        line: str | None = None,
        job: Any = None,
    ) -> None:
        line = linecache.getline(filename, lineno).strip()
        if line.startswith("@"):
            # Point at the `def` line rather than the decorator.
            for _ in range(100):
                lineno += 1
                line = linecache.getline(filename, lineno).strip()
                if not line or _DEF_LINE.match(line):
                    break
        super().__init__(filename, lineno, name, lookup_line=False, locals=None, line=line)
        self.locals = {key: trim_string(repr(value)) for key, value in locals.items()}
        self.job = job

    def __getstate__(self) -> dict:
        return {
            "filename": self.filename,
            "lineno": self.lineno,
            "name": self.name,
            "_line": getattr(self, "_line", None) or getattr(self, "_lines", None),
            "locals": self.locals,
            "job": self.job,
        }

    def __setstate__(self, state: dict) -> None:
        self.filename = state["filename"]
        self.lineno = state["lineno"]
        self.name = state["name"]
        self._line = state["_line"]
        self._lines = state["_line"]
        self.locals = state["locals"]
        self.job = state["job"]
        self.end_lineno = self.lineno
        self.colno = None
        self.end_colno = None


class Traceback(Value):
    """The job stack of a failure followed by the user's own frames."""

    __module__ = _PICKLE_MODULE
    type_name = "redun.Traceback"

    def __init__(self, error: Any, frames: list[FrameSummary], logs: list[str] | None = None):
        self.error = error
        self.frames = frames
        self.logs: list[str] = logs or []

    def __getstate__(self) -> dict:
        for frame in self.frames:
            if hasattr(frame, "_code"):
                frame._code = None
        return {"error": self.error, "frames": self.frames, "logs": self.logs}

    def __setstate__(self, state: dict) -> None:
        self.error = state["error"]
        self.frames = state["frames"]
        self.logs = state["logs"]

    @classmethod
    def from_error(cls, error: BaseException, trim_frames: bool = True) -> Traceback:
        frames = list(traceback.extract_tb(error.__traceback__))
        if trim_frames:
            frames = cls.trim_frames(frames)
        return cls(error, frames)

    @classmethod
    def trim_frames(cls, frames: list[FrameSummary]) -> list[FrameSummary]:
        """Keep only the innermost frames, below the last redun machinery frame."""
        user_frames = takewhile(
            lambda frame: not frame.filename.startswith(_MACHINERY_PREFIXES), reversed(frames)
        )
        return list(reversed(list(user_frames)))

    def format(self) -> Iterator[str]:
        for frame in self.frames:
            if isinstance(frame, Frame):
                job_id = getattr(frame.job, "id", "") or ""
                yield (
                    f'  Job {job_id[:8]}: File "{frame.filename}", line {frame.lineno}, '
                    f"in {frame.name}\n"
                )
            else:
                yield f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
            yield f"    {frame.line}\n"
            if frame.locals:
                width = max(map(len, frame.locals))
                for key, value in sorted(frame.locals.items()):
                    yield f"    {key.ljust(width)} = {value}\n"
        yield f"{type(self.error).__name__}: {self.error}"
        if self.logs:
            yield "\n"
            yield "Latest logs:\n"
            yield from self.logs


class ErrorValue(Value):
    """A job's failure, recorded in place of its result."""

    __module__ = _PICKLE_MODULE
    type_name = "redun.ErrorValue"

    def __init__(self, error: BaseException, traceback: Traceback | None = None) -> None:
        if not isinstance(error, BaseException):
            raise TypeError(f"ErrorValue needs an exception, got {type(error).__name__}")
        self.error = error
        self.traceback = traceback

    def __repr__(self) -> str:
        return f"ErrorValue({self.error!r})"

    def get_hash(self, data: bytes | None = None) -> str:
        registry = get_type_registry()
        return hash_struct(
            ["redun.ErrorValue", registry.get_hash(self.error), registry.get_hash(self.traceback)]
        )

    def __getstate__(self) -> dict:
        return {"error": self.error, "traceback": self.traceback}

    def __setstate__(self, state: dict) -> None:
        self.error = state["error"]
        self.traceback = state["traceback"]
