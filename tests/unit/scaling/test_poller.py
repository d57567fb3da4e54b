"""The poller shell and the strategy, driven pass by pass with a fake clock."""
import threading

import pytest

from parsl.errors import ConfigurationError
from parsl.jobs.job_status_poller import JobStatusPoller
from parsl.jobs.states import JobState

from scaling_fakes import FakeBlockExecutor


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def make_poller(clock, **kw):
    kw.setdefault("strategy", "simple")
    kw.setdefault("max_idletime", 10)
    # No thread: the tests drive passes themselves with run_pass().
    return JobStatusPoller(strategy_period=3600, clock=clock, run_in_thread=False, **kw)


def test_first_pass_tops_up_init_blocks_without_doubling(clock):
    ex = FakeBlockExecutor(init_blocks=2)
    ex.scale_out_facade(2)               # what HTEX.start() does
    ex.calls.clear()
    p = make_poller(clock)
    p.add_executors([ex])
    p.run_pass()
    p.close()
    assert ("out", 2) not in ex.calls and sum(1 for c in ex.calls if c[0] == "out") == 0


def test_grow_under_load_then_shrink_to_min_blocks_when_idle(clock):
    ex = FakeBlockExecutor(init_blocks=1, min_blocks=1, max_blocks=8)
    p = make_poller(clock)
    p.add_executors([ex])
    p.run_pass()
    assert len(ex.blocks) == 1
    ex.tasks = 100
    p.run_pass()
    assert len(ex.blocks) == 8
    for b in ex.blocks:
        ex.set_state(b, JobState.RUNNING)
    ex.tasks = 0
    p.run_pass()                          # idle timer starts
    clock.now = 5
    p.run_pass()
    assert sum(not js.terminal for js in ex.blocks.values()) == 8
    clock.now = 11
    p.run_pass()
    assert sum(not js.terminal for js in ex.blocks.values()) == 1
    assert ("in", 7, None) in ex.calls
    events = [e.event for e in p.history("fake").events()]
    assert "scale_out" in events and "scale_in" in events and "SCALED_IN" not in events
    p.run_pass()
    assert "SCALED_IN" in p.history("fake").states_seen("7")
    p.close()


def test_close_cancels_every_live_block_and_is_idempotent(clock):
    ex = FakeBlockExecutor(init_blocks=3, max_blocks=3)
    p = make_poller(clock)
    p.add_executors([ex])
    p.run_pass()
    p.close()
    p.close()
    assert all(js.state == JobState.SCALED_IN for js in ex.blocks.values()) and len(ex.blocks) == 3


def test_close_cancels_blocks_of_an_executor_in_bad_state(clock):
    ex = FakeBlockExecutor(init_blocks=2, max_blocks=2)
    p = make_poller(clock)
    p.add_executors([ex])
    p.run_pass()
    ex.bad_state_is_set = True
    p.close()
    assert sorted(ex.provider.cancelled) == ["job0", "job1"]


def test_bad_state_executor_is_not_scaled(clock):
    ex = FakeBlockExecutor(init_blocks=1)
    ex.bad_state_is_set = True
    p = make_poller(clock)
    p.add_executors([ex])
    ex.tasks = 50
    p.run_pass()
    assert not ex.blocks
    p.close()


def test_htex_auto_scale_asks_for_idle_blocks_only(clock):
    ex = FakeBlockExecutor(init_blocks=0, max_blocks=8)
    p = make_poller(clock, strategy="htex_auto_scale", max_idletime=7)
    p.add_executors([ex])
    ex.scale_out_facade(6)
    ex.tasks = 2
    p.run_pass()
    assert ("in", 4, 7.0) in ex.calls
    p.close()


def test_executor_without_idle_scale_in_is_called_plainly(clock):
    ex = FakeBlockExecutor(init_blocks=2, max_blocks=2, with_idle_scale_in=False)
    p = make_poller(clock)
    p.add_executors([ex])
    p.run_pass()
    p.run_pass()
    clock.now = 100
    p.run_pass()
    assert all(js.terminal for js in ex.blocks.values())
    p.close()


def test_non_block_executors_are_ignored(clock):
    class Threads:
        label = "threads"
    p = make_poller(clock)
    p.add_executors([Threads()])
    assert p.executors == []
    p.close()


def test_the_thread_runs_passes_and_stops_on_close():
    ex = FakeBlockExecutor(init_blocks=1)
    polled = threading.Event()
    real_poll = ex.poll_facade

    def poll():
        real_poll()
        polled.set()
    ex.poll_facade = poll
    p = JobStatusPoller(strategy="simple", strategy_period=0.01, max_idletime=10)
    p.add_executors([ex])
    assert polled.wait(10)
    p.close()
    assert p._thread is not None and not p._thread.is_alive()


@pytest.mark.parametrize("kw,msg", [
    (dict(strategy="fast"), "strategy='fast'"),
    (dict(strategy_period=0), "strategy_period=0"),
    (dict(max_idletime=-1), "max_idletime=-1"),
])
def test_bad_configuration_is_named(kw, msg):
    with pytest.raises(ConfigurationError, match=msg):
        JobStatusPoller(**kw)


def test_strategy_none_is_deprecated_alias():
    with pytest.warns(DeprecationWarning):
        p = JobStatusPoller(strategy=None)
    assert p.strategy.strategy == "none"
    p.close()
