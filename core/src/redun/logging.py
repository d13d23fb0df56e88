"""The ``redun`` logger: one prefixed line per message on stderr, as redun prints."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("redun")

LOG_LEVELS = ("ERROR", "WARN", "WARNING", "INFO", "DEBUG")


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


def setup_logging(level: str = "INFO") -> None:
    """Attach the stderr handler once and set the level (WARN is WARNING)."""
    if not any(isinstance(h, _CurrentStderrHandler) for h in logger.handlers):
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("[redun] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    name = level.upper()
    logger.setLevel("WARNING" if name == "WARN" else name)
