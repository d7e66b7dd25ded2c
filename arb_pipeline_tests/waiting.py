"""Waiting on threads in tests without timed lock waits.

CI runs the suite a second time a year ahead under libfaketime. A timed wait on a lock or an event
(`Event.wait(5)`, `Thread.join(10)`) hands the kernel a deadline computed on the faked monotonic
clock, which it never reaches: the test hangs. Polling with `time.sleep` works on any clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_until(done: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def join(thread: threading.Thread, seconds: float = 30.0) -> None:
    assert wait_until(lambda: not thread.is_alive(), seconds), f"{thread.name} still running after {seconds}s"
