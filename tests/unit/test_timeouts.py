"""The per-trial watchdog: an exception at the deadline, the give-up step after the grace, other alarms untouched."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from pytest_agentopt.run.outcomes import TrialTimeout
from pytest_agentopt.shell.timeouts import TIMEOUT_EXIT_CODE, Watchdog, grace_s

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="the interrupt step needs POSIX signals")


def never_called() -> None:
    raise AssertionError("the give-up step must not run")


@pytest.fixture
def watchdog() -> Iterator[Watchdog]:
    dog = Watchdog()
    yield dog
    dog.disarm()


def test_the_grace_is_a_tenth_of_the_timeout_between_one_and_thirty_seconds() -> None:
    assert grace_s(0.5) == 1.0
    assert grace_s(60) == pytest.approx(6.0)
    assert grace_s(3600) == 30.0


def test_a_trial_past_its_deadline_gets_the_exception_even_in_a_blocking_call(watchdog: Watchdog) -> None:
    previous = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    watchdog.arm(0.2, never_called)
    with pytest.raises(TrialTimeout, match=r"longer than its timeout of 0\.2 s"):
        time.sleep(20)
    watchdog.disarm()
    assert 0.15 < time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGALRM) == previous  # the handler it replaced is back


def retry_forever() -> None:
    """An agent's retry loop: it swallows every ``Exception``."""
    while True:
        try:
            time.sleep(20)
        except Exception:
            continue


def test_an_exception_handler_that_catches_exception_does_not_swallow_it(watchdog: Watchdog) -> None:
    watchdog.arm(0.2, never_called)
    with pytest.raises(TrialTimeout):
        retry_forever()


def test_a_trial_that_ends_in_time_is_left_alone(watchdog: Watchdog) -> None:
    watchdog.arm(0.3, never_called)
    watchdog.disarm()
    time.sleep(0.6)  # past the deadline: nothing fires


def test_alarms_that_are_not_its_own_go_to_the_handler_it_replaced(watchdog: Watchdog) -> None:
    seen: list[int] = []

    def theirs(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        watchdog.arm(30, never_called)
        signal.raise_signal(signal.SIGALRM)  # e.g. pytest-timeout's own alarm, or the agent's signal.alarm
        time.sleep(0.01)
        watchdog.disarm()
        assert seen == [signal.SIGALRM]
        assert signal.getsignal(signal.SIGALRM) is theirs
    finally:
        signal.signal(signal.SIGALRM, previous)


STUBBORN = """
import os, sys, time
from pytest_agentopt.shell.timeouts import Watchdog

def give_up():
    print("gave up", flush=True)
    {ending}

dog = Watchdog()
dog.arm(0.2, give_up)
while True:
    try:
        time.sleep(10)
    except BaseException:  # swallows even the timeout: only the give-up step can end it
        pass
"""


@pytest.mark.parametrize(
    ("ending", "status"), [("os._exit(7)", 7), ("return", TIMEOUT_EXIT_CODE)], ids=["it-exits", "it-returns"]
)
def test_a_trial_that_cannot_be_interrupted_is_given_up_after_the_grace(ending: str, status: int) -> None:
    script = textwrap.dedent(STUBBORN).format(ending=ending)
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == status, completed.stderr
    assert completed.stdout == "gave up\n"
    assert 0.2 + grace_s(0.2) - 0.1 < time.monotonic() - started < 30


def test_a_give_up_step_that_takes_longer_than_the_kill_fuse_is_not_cut_short() -> None:
    """Writing the partial summary on a loaded machine can take seconds: the watchdog's own step must not be ended
    by the fuse meant for a trial that holds the GIL (``2 x grace`` after the deadline, here 2.2 s)."""
    slow = "time.sleep(0.2 + 2 * 1.0 + 1.5); print('finished', flush=True); os._exit(7)"
    script = textwrap.dedent(STUBBORN).format(ending=slow)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 7, completed.stderr
    assert completed.stdout == "gave up\nfinished\n"
