"""The router's batching clock: during a burst it holds events unread (compaction would
take the GIL from the DFK and the interchange), and it always lets them go in the end."""
import types

from parsl._monitoring import router as router_mod
from parsl._monitoring.router import MonitoringRouter
from parsl.monitoring.message_type import MessageType


def _router():
    sent = []
    client = types.SimpleNamespace(send=lambda items: sent.append(list(items)), close=lambda timeout: 0)
    return MonitoringRouter(client, flush_period=0.5), sent


def _queue(r, n):
    for i in range(n):
        r.put((MessageType.NODE_INFO, {"n": i}))


def test_a_burst_is_held_until_it_ends():
    r, sent = _router()
    burst = int(router_mod.BUSY_EVENTS_PER_S * r.flush_period)
    _queue(r, burst)
    assert r.hold(100.0)
    _queue(r, burst)
    assert r.hold(100.5)                     # still arriving at burst speed
    _queue(r, 3)
    assert not r.hold(101.0)                 # the burst is over: flush now
    r.flush()
    assert len(sent) == 1 and len(sent[0]) == 3 * (2 * burst + 3)   # nothing lost, one chunk


def test_a_slow_stream_is_never_held():
    r, _ = _router()
    _queue(r, int(router_mod.BUSY_EVENTS_PER_S * r.flush_period) - 1)
    assert not r.hold(100.0)


def test_a_hold_ends_after_max_hold_s_even_if_the_burst_goes_on():
    r, _ = _router()
    burst = int(router_mod.BUSY_EVENTS_PER_S * r.flush_period)
    now = 100.0
    held = 0
    while True:
        _queue(r, burst)
        if not r.hold(now):
            break
        held += 1
        now += r.flush_period
    assert now - 100.0 >= router_mod.MAX_HOLD_S and held == int(router_mod.MAX_HOLD_S / r.flush_period)


def test_a_hold_ends_when_too_many_events_wait(monkeypatch):
    monkeypatch.setattr(router_mod, "MAX_HELD_EVENTS", 5000)
    r, _ = _router()
    _queue(r, 4000)
    assert r.hold(100.0)
    _queue(r, 1500)
    assert not r.hold(100.5)


def test_close_sends_what_a_hold_kept():
    r, sent = _router()
    burst = int(router_mod.BUSY_EVENTS_PER_S * r.flush_period)
    _queue(r, burst)
    assert r.hold(100.0)
    r.close()                                # never started: close flushes in this thread
    assert sum(len(c) for c in sent) == 3 * burst
