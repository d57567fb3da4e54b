"""The python-app walltime's second stage: an app its AppTimeout cannot reach (blocked in C
code) is handed to ``hard_stop.abandon_running_task`` a grace period later, where the
process running it set one (an HTEX worker)."""
import threading

import pytest

from parsl._base import hard_stop
from parsl._base.errors import AppTimeout
from parsl._core import timeout as timeout_module
from parsl._core.timeout import timeout


def test_grace_is_a_tenth_of_the_walltime_between_1_and_30_seconds():
    assert hard_stop.grace_s(0.1) == 1.0
    assert hard_stop.grace_s(100) == 10.0
    assert hard_stop.grace_s(3600) == 30.0


def test_an_app_blocked_in_c_code_is_abandoned_with_an_app_timeout(monkeypatch):
    release = threading.Event()
    given = []

    def abandon(exc):
        given.append(exc)
        release.set()            # a real handler ends the process; this one lets the app go

    monkeypatch.setattr(hard_stop, "abandon_running_task", abandon)

    def blocked():
        release.wait()           # a lock acquire in C: the AppTimeout waits for it to return
        return "returned"

    with pytest.raises(AppTimeout):
        timeout(blocked, 0.05)()
    assert len(given) == 1 and isinstance(given[0], AppTimeout)
    assert "exceeded walltime: 0.05 seconds" in str(given[0])
    assert "its worker process was ended" in str(given[0])


def test_without_a_handler_the_blocked_app_runs_to_its_end(monkeypatch):
    assert hard_stop.abandon_running_task is None       # the user's process never sets one
    gate = threading.Event()
    real_inject = timeout_module._inject

    def inject_then_release(thread_id, exc_type):      # the app goes on once the timeout fired
        changed = real_inject(thread_id, exc_type)
        gate.set()
        return changed
    monkeypatch.setattr(timeout_module, "_inject", inject_then_release)

    def blocked():
        gate.wait()
        return "returned"
    with pytest.raises(AppTimeout):                     # raised once it is back in Python code
        timeout(blocked, 0.05)()
