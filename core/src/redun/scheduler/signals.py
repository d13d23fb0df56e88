"""Ctrl-C and SIGTERM while a scheduler runs: stop gracefully first, at once the second time.

A signal handler must not change the scheduler's state halfway through an event,
so it only counts the signal and posts an event; the event loop acts on it
between events. A third signal (the loop is stuck somewhere) raises at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Our handlers replace only these: an application's own handlers stay in charge.
_DEFAULT_HANDLERS = (signal.default_int_handler, signal.SIG_DFL)


class SchedulerInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (Ctrl-C, SIGTERM) or a task's KeyboardInterrupt."""

    __module__ = "redun.scheduler"

    def __init__(self, signum: int = signal.SIGINT, message: str = "") -> None:
        self.signum = signum
        super().__init__(message or f"Interrupted by {signal_name(signum)}")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal."""
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextmanager
def handle_signals(on_signal: Callable[[int, int], None]) -> Iterator[None]:
    """Call ``on_signal(signum, count)`` for SIGINT/SIGTERM while the block runs.

    Handlers are installed only on the main thread and only where Python's
    defaults are in place; the previous handlers come back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    count = 0

    def handler(signum: int, _frame: Any) -> None:
        nonlocal count
        count += 1
        on_signal(signum, count)
        if count >= 3:
            raise SchedulerInterrupted(signum, "Stopped at once (third signal)")

    previous = {}
    for signum in HANDLED_SIGNALS:
        current = signal.getsignal(signum)
        if current in _DEFAULT_HANDLERS:
            previous[signum] = current
            signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
