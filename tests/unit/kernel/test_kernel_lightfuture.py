"""LightFuture behaves as a concurrent.futures.Future, including for wait()/as_completed()."""
import concurrent.futures as cf
import threading

import pytest

from parsl._base.futures import LightFuture

DEADLINE = 10.0


def test_is_a_standard_future():
    assert isinstance(LightFuture(), cf.Future)


def test_fresh_future_is_pending():
    f = LightFuture()
    assert not f.done() and not f.cancelled() and not f.running()
    assert "pending" in repr(f)


def test_result_and_exception():
    f = LightFuture()
    f.set_result(42)
    assert f.done() and f.result() == 42 and f.exception() is None
    assert "finished returned int" in repr(f)

    g = LightFuture()
    err = ValueError("boom")
    g.set_exception(err)
    assert g.exception() is err
    with pytest.raises(ValueError, match="boom"):
        g.result()
    assert "raised ValueError" in repr(g)


def test_none_is_a_valid_result():
    f = LightFuture()
    f.set_result(None)
    assert f.done() and f.result() is None


def test_setting_twice_is_an_invalid_state_and_keeps_the_first_outcome():
    f = LightFuture()
    f.set_result(1)
    with pytest.raises(cf.InvalidStateError):
        f.set_result(2)
    with pytest.raises(cf.InvalidStateError):
        f.set_exception(ValueError())
    assert f.result() == 1 and f.exception() is None


def test_timeouts():
    f = LightFuture()
    with pytest.raises(cf.TimeoutError):
        f.result(timeout=0.01)
    with pytest.raises(cf.TimeoutError):
        f.exception(timeout=0)


def test_cancel_pending_future():
    f = LightFuture()
    calls = []
    f.add_done_callback(calls.append)
    assert f.cancel() is True
    assert f.cancel() is True  # idempotent
    assert f.cancelled() and f.done()
    assert calls == [f]
    with pytest.raises(cf.CancelledError):
        f.result()
    with pytest.raises(cf.CancelledError):
        f.exception()
    with pytest.raises(cf.InvalidStateError):
        f.set_result(1)


def test_running_and_finished_futures_cannot_be_cancelled():
    f = LightFuture()
    assert f.set_running_or_notify_cancel() is True
    assert f.running()
    assert f.cancel() is False
    f.set_result(1)
    assert f.cancel() is False
    assert f.result() == 1


def test_set_running_after_cancel_reports_cancel():
    f = LightFuture()
    f.cancel()
    assert f.set_running_or_notify_cancel() is False


def test_set_running_twice_is_an_error():
    f = LightFuture()
    f.set_running_or_notify_cancel()
    with pytest.raises(RuntimeError):
        f.set_running_or_notify_cancel()


def test_callbacks_run_once_in_order_and_late_callbacks_run_at_once():
    f = LightFuture()
    order = []
    f.add_done_callback(lambda fut: order.append("a"))
    f.add_done_callback(lambda fut: order.append("b"))
    assert order == []
    f.set_result(None)
    assert order == ["a", "b"]
    f.add_done_callback(lambda fut: order.append("late"))
    assert order == ["a", "b", "late"]


def test_a_raising_callback_is_logged_and_others_still_run(caplog):
    f = LightFuture()
    ran = []

    def bad(fut):
        raise RuntimeError("callback bug")
    f.add_done_callback(bad)
    f.add_done_callback(ran.append)
    f.set_result(1)
    assert ran == [f]
    assert "exception calling callback" in caplog.text


def test_callbacks_see_the_final_state():
    f = LightFuture()
    seen = []
    f.add_done_callback(lambda fut: seen.append((fut.done(), fut.result())))
    f.set_result("x")
    assert seen == [(True, "x")]


def test_private_attributes_used_by_the_standard_library_exist():
    f = LightFuture()
    assert f._waiters == []
    assert f._done_callbacks == []
    with f._condition:
        pass


def test_a_light_future_costs_less_than_a_standard_one():
    import sys
    assert sys.getsizeof(LightFuture()) < sys.getsizeof(cf.Future()) + sys.getsizeof(cf.Future()._condition)


# -- concurrent.futures.wait and as_completed ---------------------------------------

def _complete_later(fut, value, gate):
    def run():
        gate.wait(DEADLINE)
        fut.set_result(value)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_wait_all_completed_with_already_done_and_pending_futures():
    done_one = LightFuture()
    done_one.set_result(0)
    pending = LightFuture()
    gate = threading.Event()
    t = _complete_later(pending, 1, gate)
    gate.set()
    done, not_done = cf.wait([done_one, pending], timeout=DEADLINE)
    t.join()
    assert done == {done_one, pending} and not not_done


def test_wait_first_completed_returns_the_finished_one():
    a, b = LightFuture(), LightFuture()
    gate = threading.Event()
    t = _complete_later(b, "b", gate)
    gate.set()
    done, not_done = cf.wait([a, b], timeout=DEADLINE, return_when=cf.FIRST_COMPLETED)
    t.join()
    assert done == {b} and not_done == {a}


def test_wait_first_exception():
    a, b = LightFuture(), LightFuture()
    b.set_exception(KeyError("k"))
    done, not_done = cf.wait([a, b], timeout=DEADLINE, return_when=cf.FIRST_EXCEPTION)
    assert done == {b} and not_done == {a}


def test_wait_times_out_without_completion():
    a = LightFuture()
    done, not_done = cf.wait([a], timeout=0.01)
    assert not done and not_done == {a}


def test_wait_sees_cancellation():
    a, b = LightFuture(), LightFuture()
    gate = threading.Event()

    def cancel_later():
        gate.wait(DEADLINE)
        a.cancel()
    t = threading.Thread(target=cancel_later)
    t.start()
    gate.set()
    done, _ = cf.wait([a, b], timeout=DEADLINE, return_when=cf.FIRST_COMPLETED)
    t.join()
    assert done == {a} and a.cancelled()


def test_as_completed_yields_each_future_once_as_it_finishes():
    futs = [LightFuture() for _ in range(20)]
    futs[0].set_result(0)  # one is done before as_completed starts

    def finish_rest():
        for i, f in enumerate(futs[1:], 1):
            f.set_result(i)
    t = threading.Thread(target=finish_rest)
    t.start()
    seen = [f.result() for f in cf.as_completed(futs, timeout=DEADLINE)]
    t.join()
    assert sorted(seen) == list(range(20))


def test_as_completed_times_out():
    with pytest.raises(cf.TimeoutError):
        list(cf.as_completed([LightFuture()], timeout=0.01))


def test_mixing_light_and_standard_futures_in_wait():
    light, std = LightFuture(), cf.Future()
    light.set_result(1)
    std.set_result(2)
    done, _ = cf.wait([light, std], timeout=DEADLINE)
    assert done == {light, std}


# -- races ----------------------------------------------------------------------------

def test_many_blocked_waiters_are_all_woken():
    f = LightFuture()
    n = 8
    started = threading.Barrier(n + 1)
    results = []
    lock = threading.Lock()

    def waiter():
        started.wait(DEADLINE)
        r = f.result(timeout=DEADLINE)
        with lock:
            results.append(r)
    threads = [threading.Thread(target=waiter) for _ in range(n)]
    for t in threads:
        t.start()
    started.wait(DEADLINE)
    f.set_result("go")
    for t in threads:
        t.join(DEADLINE)
    assert results == ["go"] * n


def test_callbacks_added_while_completing_each_run_exactly_once():
    # One thread adds callbacks while another completes the future: every callback must run
    # exactly once, whichever side of the completion it lands on.
    for _ in range(200):
        f = LightFuture()
        calls = []
        barrier = threading.Barrier(2)

        def adder():
            barrier.wait(DEADLINE)
            for i in range(50):
                f.add_done_callback(lambda fut, i=i: calls.append(i))

        t = threading.Thread(target=adder)
        t.start()
        barrier.wait(DEADLINE)
        f.set_result(None)
        t.join(DEADLINE)
        assert sorted(calls) == list(range(50))


def test_racing_completions_keep_one_consistent_outcome():
    # Two threads try to finish the same future (one with a result, one with an exception):
    # exactly one wins, the loser gets InvalidStateError, and the future reports the winner's
    # outcome -- never a mix of the two.
    for _ in range(2000):
        f = LightFuture()
        barrier = threading.Barrier(2)
        outcome = {}

        def finish_with_exception():
            barrier.wait(DEADLINE)
            try:
                f.set_exception(ValueError("loser?"))
                outcome["exc"] = True
            except cf.InvalidStateError:
                outcome["exc"] = False

        t = threading.Thread(target=finish_with_exception)
        t.start()
        barrier.wait(DEADLINE)
        try:
            f.set_result("value")
            outcome["res"] = True
        except cf.InvalidStateError:
            outcome["res"] = False
        t.join(DEADLINE)
        assert outcome["res"] != outcome["exc"]
        if outcome["res"]:
            assert f.exception() is None and f.result() == "value"
        else:
            assert isinstance(f.exception(), ValueError)


def test_cancel_racing_set_running_has_one_winner():
    for _ in range(500):
        f = LightFuture()
        barrier = threading.Barrier(2)
        got = {}

        def runner():
            barrier.wait(DEADLINE)
            got["running"] = f.set_running_or_notify_cancel()

        t = threading.Thread(target=runner)
        t.start()
        barrier.wait(DEADLINE)
        got["cancelled"] = f.cancel()
        t.join(DEADLINE)
        assert got["running"] != got["cancelled"]
        assert f.cancelled() == got["cancelled"]


class _Interleaved(LightFuture):
    """Runs ``hook`` at the start of the locked transition: a deterministic stand-in for
    another thread acting between a public method's quick pre-check and the transition."""

    __slots__ = ("hook",)

    def __init__(self, hook=None):
        LightFuture.__init__(self)
        self.hook = hook

    def _finish(self, *args, **kwargs):
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return LightFuture._finish(self, *args, **kwargs)


def test_losing_set_exception_does_not_overwrite_the_winning_result():
    f = _Interleaved()
    f.hook = lambda: f.set_result("winner")
    with pytest.raises(cf.InvalidStateError):
        f.set_exception(ValueError("loser"))
    assert f.exception() is None
    assert f.result() == "winner"


def test_losing_set_result_does_not_overwrite_the_winning_exception():
    f = _Interleaved()
    err = KeyError("winner")
    f.hook = lambda: f.set_exception(err)
    with pytest.raises(cf.InvalidStateError):
        f.set_result("loser")
    assert f.exception() is err


def test_cancel_loses_to_a_worker_that_started_the_task_meanwhile():
    # A worker thread starting the task between cancel()'s check and its transition must win:
    # otherwise the worker's later set_result raises InvalidStateError in the worker thread.
    f = _Interleaved()
    f.hook = lambda: f.set_running_or_notify_cancel()
    assert f.cancel() is False
    assert f.running() and not f.cancelled()
    f.set_result(1)
    assert f.result() == 1
