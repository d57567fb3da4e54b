"""The one way the tests wait for something that happens in another thread or process.

``wait_until(condition, what)`` calls ``condition()`` until it returns something truthy and
returns that value. If the deadline passes first it raises ``WaitTimeout`` -- an
``AssertionError``, so pytest reports a failure -- whose message names what was awaited, how
long, and the last value ``condition`` returned. A caller for whom the deadline is not a
failure (a leak check with a grace period, a kill at "whatever point it has reached") catches
``WaitTimeout``.

Imported by name (``pythonpath = ["tests"]``): ``from waiting import wait_until``.
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

# generous: the suite shares two cores with whatever else runs on the machine
DEFAULT_TIMEOUT = 20.0
DEFAULT_INTERVAL = 0.02


class WaitTimeout(AssertionError):
    """The awaited condition did not hold before the deadline."""


def wait_until(condition: Callable[[], T], what: str, *, timeout: float = DEFAULT_TIMEOUT,
               interval: float = DEFAULT_INTERVAL) -> T:
    """Poll ``condition`` until it returns a truthy value; return that value.

    ``what`` says what is awaited, as in "timed out after 5 s waiting for <what>".
    """
    if not isinstance(what, str):
        raise TypeError(f"wait_until(condition, what, *, timeout=...): what must say what is awaited, "
                        f"got {what!r}")
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what} (last value: {value!r})")
        time.sleep(interval)
