"""Signals as a terminal sends them, whatever the test runner inherited.

A test runner started in the background (``make test &``, some CI shells and
job runners) inherits SIGINT ignored, and so does every process it starts: a
Ctrl-C test would then test nothing, or fail. Tests that send SIGINT or
SIGTERM install their own handling with these helpers.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


def default_signals() -> None:
    """``preexec_fn`` for a process a test will signal: SIGINT and SIGTERM act as usual."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def keyboard_interrupts() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in this process while the block runs."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
