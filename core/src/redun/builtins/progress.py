"""A live progress line on the terminal while a workflow runs (builtin plugin).

This module implements only `redun_scheduler_setup`. When stderr is a
terminal it registers a `ProgressLine` listener for the event hooks;
otherwise it registers nothing (and removes a listener left from an earlier
terminal run), so `has_listeners` stays false and the scheduler skips the
event calls entirely: piped or redirected output carries no control codes and
pays nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections import Counter
from typing import Any, TextIO

from redun.plugins import hookimpl

LISTENER_NAME = "builtins.progress.line"
ERASE = "\r\x1b[2K"
REDRAW_INTERVAL = 0.1
STATUSES = ("RUNNING", "DONE", "CACHED", "FAILED")


def is_terminal(stream: Any) -> bool:
    """True for an interactive terminal that understands erase codes."""
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # closed or stream-like objects without a tty
        return False


class _EraseBeforeLog(logging.Filter):
    """Clears the progress line before a ``[redun]`` log line is written over it."""

    def __init__(self, line: ProgressLine) -> None:
        super().__init__()
        self.line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self.line.erase()
        return True


class ProgressLine:
    """Counts jobs per status from the event hooks and redraws one line on stderr."""

    def __init__(self, interval: float = REDRAW_INTERVAL) -> None:
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self.running: set[str] = set()
        self.started = 0.0
        self.last_draw = 0.0
        self.shown = False
        self._filter = _EraseBeforeLog(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    def text(self) -> str:
        elapsed = time.monotonic() - self.started
        counts = dict(self.counts, RUNNING=len(self.running))
        cells = " | ".join(f"{status} {counts.get(status, 0)}" for status in STATUSES)
        line = f"[redun] {elapsed:.0f}s | {cells}"
        width = shutil.get_terminal_size().columns
        return line[: max(width - 1, 0)]  # a wrapped line could not be erased

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        self.stream.write(ERASE + self.text())
        self.stream.flush()
        self.shown = True

    def erase(self) -> None:
        if self.shown:
            self.stream.write(ERASE)
            self.stream.flush()
            self.shown = False

    @hookimpl
    def redun_execution_started(self, scheduler: Any, execution: Any) -> None:
        self.counts.clear()
        self.running.clear()
        self.started = time.monotonic()
        logging.getLogger("redun").addFilter(self._filter)
        self.draw(force=True)

    @hookimpl
    def redun_job_submitted(self, scheduler: Any, job: Any) -> None:
        self.running.add(job.id)
        self.draw()

    @hookimpl
    def redun_job_done(self, scheduler: Any, job: Any, result: Any) -> None:
        if job.id in self.running:
            self.running.discard(job.id)
            self.counts["DONE"] += 1
        else:
            self.counts["CACHED"] += 1
        self.draw()

    @hookimpl
    def redun_job_failed(self, scheduler: Any, job: Any, error: BaseException) -> None:
        self.running.discard(job.id)
        self.counts["FAILED"] += 1
        self.draw()

    @hookimpl
    def redun_execution_finished(self, scheduler: Any, execution: Any, status: str) -> None:
        logging.getLogger("redun").removeFilter(self._filter)
        self.erase()


@hookimpl
def redun_scheduler_setup(scheduler: Any) -> None:
    """Listen to job events only while stderr is a terminal."""
    from redun._version import DISTRIBUTION_VERSION
    from redun.plugins.manager import CORE_DISTRIBUTION, get_plugin_manager

    manager = get_plugin_manager()
    registered = manager.get_plugin(LISTENER_NAME) is not None
    if is_terminal(sys.stderr):
        if not registered:
            manager.register_plugin(
                ProgressLine(), LISTENER_NAME, CORE_DISTRIBUTION, DISTRIBUTION_VERSION
            )
    elif registered:
        manager.unregister_plugin(LISTENER_NAME)
