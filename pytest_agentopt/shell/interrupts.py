"""Ctrl-C while the controller writes the end of a run: the first one waits, a second one interrupts.

Once the run's trials are over (finished, stopped or interrupted), the controller reports the never-run trials,
builds the summary, writes ``summary.json`` and the reports, and prints the report with the resume command. A
``KeyboardInterrupt`` raised in the middle of that - a second Ctrl-C, or the first one landing late, which under
``-n`` is common because xdist first has to wind its workers down - would lose all of it. So from the moment the
controller starts finishing until pytest has printed the report, SIGINT only sets a flag and says so; a second
SIGINT interrupts as usual.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType
from typing import Any

NOTICE = b"\nagentopt: interrupted while writing the run's report; finishing it (Ctrl-C again to abandon it)\n"


class DeferredInterrupts:
    def __init__(self) -> None:
        self._previous: Any = None
        self._installed = False
        self.received = 0

    def start(self) -> None:
        """Hold back the first SIGINT from now on (main thread only; a no-op elsewhere or when started)."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            return
        try:
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        except (ValueError, OSError):
            return
        self._installed = True

    def stop(self) -> None:
        """Give SIGINT back to the handler that had it."""
        if not self._installed:
            return
        self._installed = False
        signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        self.received += 1
        if self.received == 1:
            # os.write, not print: a handler that writes to a buffered stream the main thread is writing to raises
            # "reentrant call".
            with contextlib.suppress(OSError):
                os.write(2, NOTICE)
            return
        self.stop()
        if callable(self._previous):
            self._previous(signum, frame)
        raise KeyboardInterrupt
