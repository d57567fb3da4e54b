"""The router's batching clock: during a burst it holds events unread (compaction would
take the GIL from the DFK and the interchange), it always lets them go in the end, and
its chunks tell the writer whether a burst is on (then the writer may wait too)."""
import types

from parsl._monitoring import router as router_mod
from parsl._monitoring.router import MonitoringRouter
from parsl.monitoring.message_type import MessageType


def _router():
    sent = []
    client = types.SimpleNamespace(send=lambda items, burst=False: sent.append((list(items), burst)),
                                   close=lambda timeout: 0, poll=lambda: [], alive=lambda: True, done=True,
                                   final_reports=[], restarts=0)
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
    ((items, in_burst),) = sent
    assert len(items) == 3 * (2 * burst + 3) and not in_burst     # nothing lost, one chunk


def test_a_slow_stream_is_never_held():
    r, _ = _router()
    _queue(r, int(router_mod.BUSY_EVENTS_PER_S * r.flush_period) - 1)
    assert not r.hold(100.0)


def test_a_hold_ends_after_max_hold_s_even_if_the_burst_goes_on():
    r, sent = _router()
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
    r.flush()
    assert sent[-1][1]                       # the writer is told the burst goes on
    assert not r.hold(now + r.flush_period)  # then it stops, with nothing new queued
    r.flush()
    assert sent[-1] == ([], False)           # an empty chunk says so

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
    assert sent == [(sent[0][0], False)] and len(sent[0][0]) == 3 * burst


def test_the_writer_reads_each_chunks_burst_flag():
    import os
    import pickle

    from parsl._monitoring import writer_process as wp
    r, w = os.pipe()
    try:
        for items, flags in (([1, 2], wp.BURST), ([], 0)):
            data = pickle.dumps(items)
            os.write(w, wp.CHUNK_HEAD.pack(len(data), flags) + data)
        chunks = wp._Chunks(r)
        assert pickle.loads(chunks.get(None)) == [1, 2] and chunks.burst
        assert pickle.loads(chunks.get(None)) == [] and not chunks.burst
        assert chunks.get(0.0) is None          # nothing more yet
    finally:
        os.close(r)
        os.close(w)
