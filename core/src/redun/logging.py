"""The ``redun`` logger: one prefixed line per message on stderr, as redun prints."""

from __future__ import annotations

import logging
import sys
import threading

logger = logging.getLogger("redun")

LOG_LEVELS = ("ERROR", "WARN", "WARNING", "INFO", "DEBUG")

PREFIX = "[redun] "
_FORMATTER = logging.Formatter(PREFIX + "%(message)s")

# Job lines (see job_line) not yet written, oldest first.
_lines: list[str] = []
_lines_lock = threading.Lock()
# Lines held at most: a burst of jobs is written in a few calls, not one per job.
LINES_HELD = 512


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now, so redirections (and CliRunner) see the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        # Job lines held before this record come first, as they were logged first.
        flush_job_lines()
        super().emit(record)


def _only_stderr_handler(target: logging.Logger) -> bool:
    """Whether an INFO line of `target` reaches our stderr handler alone, as PREFIX + text."""
    if target is not logger or logger.filters or logger.propagate:
        return False
    handlers = logger.handlers
    if len(handlers) != 1:
        return False
    handler = handlers[0]
    return (
        type(handler) is _CurrentStderrHandler
        and handler.formatter is _FORMATTER
        and not handler.filters
        and handler.level <= logging.INFO
    )


def job_line(target: logging.Logger, text: str) -> None:
    """Log one INFO line of a job (Run, Cached) as `target.info(text)` would.

    A LogRecord and a write per line cost about a tenth of a cached job; when
    only redun's stderr handler would see the line, it is held and written with
    its neighbours (by flush_job_lines, or before any other record of the logger).
    """
    if not target.isEnabledFor(logging.INFO):
        return
    if not _only_stderr_handler(target):
        target.info(text)
        return
    with _lines_lock:
        _lines.append(text)
        full = len(_lines) >= LINES_HELD
    if full:
        flush_job_lines()


def flush_job_lines() -> None:
    """Write the held job lines to stderr (the scheduler calls this before it waits)."""
    if not _lines:
        return
    with _lines_lock:  # held while writing, so two threads' flushes keep the order
        if not _lines:
            return
        text = "".join(f"{PREFIX}{line}\n" for line in _lines)
        _lines.clear()
        stream = sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            # As logging does with a stream that is gone: the lines are lost, the run goes on.
            pass


def setup_logging(level: str = "INFO") -> None:
    """Attach the stderr handler once and set the level (WARN is WARNING)."""
    if not any(isinstance(h, _CurrentStderrHandler) for h in logger.handlers):
        handler = _CurrentStderrHandler()
        handler.setFormatter(_FORMATTER)
        logger.addHandler(handler)
        logger.propagate = False
    name = level.upper()
    logger.setLevel("WARNING" if name == "WARN" else name)
