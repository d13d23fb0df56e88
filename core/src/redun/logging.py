"""The ``redun`` logger: one prefixed line per message on stderr, as redun prints."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("redun")

LOG_LEVELS = ("ERROR", "WARN", "WARNING", "INFO", "DEBUG")


def setup_logging(level: str = "INFO") -> None:
    """Attach the stderr handler once and set the level (WARN is WARNING)."""
    if not any(getattr(h, "_redun_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[redun] %(message)s"))
        handler._redun_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    name = level.upper()
    logger.setLevel("WARNING" if name == "WARN" else name)
