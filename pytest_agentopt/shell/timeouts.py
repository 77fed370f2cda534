"""Per-trial timeouts (``--agent-timeout``, ``@pytest.mark.agent_task(timeout=...)``): end a trial that runs too long.

A trial is the call phase of an agent item. Three steps, each taken only when the one before did not end it:

1. **Interrupt** at the deadline: ``SIGALRM`` is sent to the main thread, whose handler raises
   :class:`~pytest_agentopt.run.outcomes.TrialTimeout` inside the trial. A signal wakes a blocking call (``sleep``, a
   socket read) as well as Python code; the exception is a ``BaseException``, so an agent's ``except Exception``
   does not swallow it. The trial is recorded as ``timeout`` and the process goes on with the next item.
2. **Give up** ``grace`` seconds later (:func:`grace_s`): the trial is stuck where no exception reaches it (a C
   extension that retries its system call, code that catches ``BaseException``). A watchdog thread records the
   trial as ``timeout`` itself and calls ``on_stuck``, which ends the process: an xdist worker exits (the
   controller records nothing more for the trial and xdist replaces the worker), a single process writes its
   partial summary and the resume command and exits 2 (see ``controller.ControllerPlugin.abandon_run``).
3. **Kill** ``2 x grace`` after the deadline: if even the watchdog thread cannot run (the trial holds the GIL),
   ``faulthandler`` - a C thread that needs no GIL - dumps the stacks and exits the process with status 1; under
   xdist the controller then records the trial as ``worker_crash``. Once the watchdog does run step 2, the fuse
   is set to :data:`FINISH_S` instead, so that recording the trial and writing the partial summary are never cut
   short by a slow machine.

Step 1 needs ``signal.pthread_kill`` (POSIX) and a trial in the main thread; elsewhere the trial goes straight to
step 2 at its deadline. The ``SIGALRM`` handler is installed only while a trial with a timeout runs, and it passes
alarms that are not its own (pytest-timeout's signal method, the agent's own ``signal.alarm``) to the handler it
replaced. ``faulthandler`` has a single timer per process: pytest's ``faulthandler_timeout`` is suspended while a
trial with a timeout runs.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from pytest_agentopt.run.outcomes import TrialTimeout

MIN_GRACE_S = 1.0
MAX_GRACE_S = 30.0
FINISH_S = 120.0
"""Once the watchdog has taken a stuck trial over, how long the process has to record it and write its partial
summary before ``faulthandler`` ends it: generous, because on a loaded machine the summary's first imports alone
can take seconds, and a run ended by the kill loses its summary and its resume command."""
TIMEOUT_EXIT_CODE = 124
"""The exit status of an xdist worker ended by step 2 (as coreutils' ``timeout`` uses)."""

_SOFT = "soft"
_STUCK = "stuck"


def grace_s(timeout_s: float) -> float:
    """How long a trial may take to end after its deadline: a tenth of the timeout, between 1 s and 30 s."""
    return min(MAX_GRACE_S, max(MIN_GRACE_S, 0.1 * timeout_s))


class Watchdog:
    """One per process; at most one trial armed at a time (a process runs one item at a time).

    ``on_stuck`` runs in the watchdog's thread (step 2) and must not return normally: it ends the process. Once it
    has started, :meth:`disarm` - called by the trial's thread if the trial ends after all - blocks until the
    process ends, so the trial is never reported twice.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0
        self._armed = False
        self._deadline = 0.0
        self._timeout_s = 0.0
        self._grace_s = 0.0
        self._steps: list[str] = []
        self._on_stuck: Callable[[], object] | None = None
        self._abandoned = False
        self._soft_fired = False
        self._main_ident: int | None = None
        self._previous_handler: Any = None
        self._thread: threading.Thread | None = None

    # -- the trial's thread -----------------------------------------------------------------------------------

    def arm(self, timeout_s: float, on_stuck: Callable[[], object]) -> None:
        """Start the clock of a trial that may take ``timeout_s`` seconds."""
        self._ensure_thread()
        soft = self._install_alarm_handler()
        with self._condition:
            self._generation += 1
            self._armed = True
            self._soft_fired = False
            self._timeout_s = timeout_s
            self._grace_s = grace_s(timeout_s)
            self._deadline = time.monotonic() + timeout_s
            self._steps = [_SOFT, _STUCK] if soft else [_STUCK]
            self._on_stuck = on_stuck
            self._condition.notify_all()
        if sys.__stderr__ is not None:
            with contextlib.suppress(ValueError, OSError, AttributeError):  # no usable stderr: step 3 is off
                faulthandler.dump_traceback_later(timeout_s + 2 * self._grace_s, exit=True, file=sys.__stderr__)

    def disarm(self) -> None:
        """The trial ended (or its report is being made): stop the clock. Idempotent."""
        with self._condition:
            was_armed = self._armed
            self._armed = False
            self._generation += 1
            abandoned = self._abandoned
            self._condition.notify_all()
        if abandoned:
            while True:  # the watchdog has recorded this trial and is ending the process
                time.sleep(60)
        if was_armed:
            faulthandler.cancel_dump_traceback_later()
            self._restore_alarm_handler()

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    # -- step 1: the signal -----------------------------------------------------------------------------------

    def _install_alarm_handler(self) -> bool:
        if not hasattr(signal, "pthread_kill") or threading.current_thread() is not threading.main_thread():
            return False
        try:
            self._previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
        except (ValueError, OSError):
            return False
        self._main_ident = threading.get_ident()
        return True

    def _restore_alarm_handler(self) -> None:
        if self._main_ident is None:
            return
        self._main_ident = None
        previous = self._previous_handler if self._previous_handler is not None else signal.SIG_DFL
        # signal.signal runs any pending handler first: an alarm sent just before the trial ended lands in
        # _on_alarm, which ignores it now that nothing is armed.
        signal.signal(signal.SIGALRM, previous)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        with self._condition:
            ours = self._armed and self._soft_fired and not self._abandoned
            if ours:
                self._soft_fired = False  # one exception per trial, never a second one in its clean-up
        if ours:
            raise TrialTimeout(self._timeout_s)
        if callable(self._previous_handler):
            self._previous_handler(signum, frame)

    # -- the watchdog's thread --------------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="agentopt-trial-timeout", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while True:
            with self._condition:
                while not (self._armed and self._steps):
                    self._condition.wait()
                generation = self._generation
                step = self._steps[0]
                due = self._deadline + (self._grace_s if step == _STUCK else 0.0)
                remaining = due - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                if generation != self._generation or not self._armed:
                    continue
                self._steps.pop(0)
                if step == _SOFT:
                    self._soft_fired = True
                    if self._main_ident is not None:
                        with contextlib.suppress(OSError):
                            signal.pthread_kill(self._main_ident, signal.SIGALRM)
                    continue
                self._abandoned = True
                on_stuck = self._on_stuck
            if sys.__stderr__ is not None:
                # This thread runs, so step 3's short fuse is no longer needed: give recording and the partial
                # summary their time, and keep a fuse in case the trial takes the GIL back for good.
                with contextlib.suppress(ValueError, OSError, AttributeError):
                    faulthandler.dump_traceback_later(FINISH_S, exit=True, file=sys.__stderr__)
            try:
                if on_stuck is not None:
                    on_stuck()
            finally:
                os._exit(TIMEOUT_EXIT_CODE)  # on_stuck ends the process; if it could not, end it here
