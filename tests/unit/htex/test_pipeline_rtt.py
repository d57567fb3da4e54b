"""A latency-bound manager's pipeline grows to what its measured round trip needs."""
import pytest

from parsl._htex.intake import probe_rtt, took_rtt
from parsl._htex.matching import (
    MAX_PIPELINE_RTT_S,
    ManagerRecord,
    grow_pipeline,
    latency_bound,
    pipeline_limit,
    runs_dry,
)
from parsl._htex.protocol import PING, Registration


def mgr(workers=2):
    reg = Registration.create(uid="a", block_id="0", worker_count=workers, prefetch_capacity=0,
                              start_time=0.0, os="Linux", hostname="h", dir="/", cpu_count=2, total_memory=1, pid=1)
    return ManagerRecord(b"a", reg, 0.0)


def grown_fully(m):
    for _ in range(64):
        grow_pipeline(m)
    return m.max_capacity - m.committed


def test_without_a_round_trip_the_limit_is_the_fixed_floor():
    assert pipeline_limit(2) == pipeline_limit(2, None) == pipeline_limit(2, 0.0) == 256
    assert pipeline_limit(8) == 512
    assert grown_fully(mgr()) == 256


def test_a_longer_round_trip_allows_a_longer_pipeline():
    near, mid, far = pipeline_limit(2, 0.0005), pipeline_limit(2, 0.010), pipeline_limit(2, 0.100)
    assert near == 256                  # a near manager keeps the floor: recalls move little
    assert 256 < mid < far
    # two round trips of the fastest tasks 2 workers could run are covered
    assert mid >= 2 * 0.010 * 2 * 20_000
    m = mgr()
    m.rtt = 0.010
    assert grown_fully(m) == mid


def test_a_huge_round_trip_is_bounded():
    assert pipeline_limit(2, 50.0) == pipeline_limit(2, MAX_PIPELINE_RTT_S)


def test_the_manager_with_many_workers_is_bounded_by_its_loop_not_its_worker_count():
    assert pipeline_limit(1000, 0.010) == max(64 * 1000, pipeline_limit(3, 0.010))


def test_growth_stays_off_without_pipelining():
    m = mgr()
    m.rtt = 0.010
    m.stop_pipelining()
    grow_pipeline(m)
    assert m.max_capacity == m.committed


class FakeSocket:
    def __init__(self):
        self.sent = []

    def send_multipart(self, frames):
        self.sent.append(frames)


def test_the_round_trip_is_the_time_to_a_pings_answer():
    m, sock = mgr(), FakeSocket()
    probe_rtt(sock, m)
    assert sock.sent == [[b"a", PING]]
    sent = m.rtt_probe_at
    assert sent is not None
    took_rtt(m, sent + 0.004)
    assert m.rtt == pytest.approx(0.004) and m.rtt_probe_at is None
    took_rtt(m, sent + 9.0)              # no probe out: an ordinary heartbeat changes nothing
    assert m.rtt == pytest.approx(0.004)


def test_an_answer_slower_than_the_bound_is_no_round_trip():
    # a manager that ignores PINGs: its next periodic heartbeat must not pass for an answer
    m, sock = mgr(), FakeSocket()
    probe_rtt(sock, m)
    took_rtt(m, m.rtt_probe_at + MAX_PIPELINE_RTT_S + 1)
    assert m.rtt is None and m.rtt_probe_at is None


def test_a_manager_holding_no_more_than_its_workers_runs_dry():
    m = mgr(workers=2)
    m.tasks.update({1, 2, 3})
    assert not runs_dry(m), "one task queued behind its two workers"
    m.tasks.discard(3)
    assert runs_dry(m), "its queue is empty: the next tasks arrive a round trip late"
    m.tasks.clear()
    assert runs_dry(m)


def holding(m, n):
    m.tasks.clear()
    m.tasks.update(range(n))
    return m


def test_a_far_manager_that_returns_its_window_each_round_trip_is_latency_bound():
    # Its results come back in pieces, so the interchange never sees it hold as few tasks
    # as it has workers; its completion rate says the window is what holds it back.
    m = mgr(workers=2)
    m.rtt = 0.010
    m.max_capacity = 144
    holding(m, 120)
    assert not runs_dry(m)
    m.done = 144 * 3                  # a window per round trip for three round trips
    assert latency_bound(m, 0.030)
    assert m.rate == pytest.approx(14_400)


def test_a_manager_bound_by_its_workers_keeps_its_window():
    m = mgr(workers=2)
    m.rtt = 0.010
    m.max_capacity = 144
    holding(m, 120)
    m.done = 6                        # 2 workers on 10 ms tasks: 200 tasks/s
    assert not latency_bound(m, 0.030)


def test_a_near_manager_grows_only_when_it_runs_dry():
    m = mgr(workers=2)
    m.rtt = 0.00005
    m.max_capacity = 18
    holding(m, 10)
    m.done = 30_000                   # 30,000 tasks/s, but a round trip of 50 us needs ~3 in flight
    assert not latency_bound(m, 1.0)
    assert latency_bound(holding(m, 2), 1.0)
    m.rtt = None                      # not measured: only running dry counts
    assert not latency_bound(holding(m, 10), 2.0)


def test_the_rate_is_measured_over_at_least_two_round_trips():
    m = mgr(workers=2)
    m.rtt = 0.010
    m.max_capacity = 144
    holding(m, 120)
    m.done = 100
    assert not latency_bound(m, 0.010), "one round trip is too short to measure over"
    assert m.rate == 0.0
    m.done = 600
    assert latency_bound(m, 0.020)
    assert m.rate_at == 0.020 and m.rate_done == 600
