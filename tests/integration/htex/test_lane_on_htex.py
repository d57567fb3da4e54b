"""The direct lane between the interchange and a manager on the same host (parsl/_htex/lane.py)."""
import socket
import sys

import cloudpickle
import pytest

from parsl._htex import lane as lanes
from parsl._htex import protocol

from _htex_helpers import htex  # noqa: F401
from waiting import wait_until

pytestmark = pytest.mark.htex
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def echo(x):
    return x


def lanes_open(ex):
    return ex.interchange.call(lambda ix: [m.lane is not None for m in ix.managers.values()])


def test_a_local_manager_moves_tasks_and_results_over_the_lane(htex):
    ex = htex(encrypted=True)     # the default configuration
    wait_until(lambda: lanes_open(ex) == [True], "the manager's lane to open")
    futs = [ex.submit(echo, {}, i) for i in range(500)]
    assert [f.result(timeout=60) for f in futs] == list(range(500))
    # Larger than the socket buffers in both directions: partial writes wait for POLLOUT.
    big = [bytes([i]) * 3_000_000 for i in range(3)]
    futs = [ex.submit(echo, {}, b) for b in big]
    assert [f.result(timeout=60) for f in futs] == big
    # every result is counted once for the manager's completion rate (pipeline sizing)
    assert ex.interchange.call(lambda ix: [m.done for m in ix.managers.values()]) == [503]


def test_the_lane_can_be_switched_off(htex, monkeypatch):
    monkeypatch.setenv(lanes.ENV_SWITCH, "0")     # the manager inherits it too
    ex = htex()
    wait_until(lambda: len(ex.connected_managers()) == 1, "one manager to connect")
    assert lanes_open(ex) == [False]
    assert ex.submit(echo, {}, "over zmq").result(timeout=30) == "over zmq"


def test_a_stranger_on_the_lane_port_is_refused_and_harms_nothing(htex):
    ex = htex()
    wait_until(lambda: lanes_open(ex) == [True], "the manager's lane to open")
    port = ex.interchange._lane_listener.port
    stranger = socket.create_connection(("127.0.0.1", port))
    try:
        stranger.sendall(protocol.encode_hello(b"\0" * protocol.LANE_TOKEN_BYTES, b"intruder"))
        stranger.settimeout(10)
        assert stranger.recv(10) == b""      # closed by the interchange
    finally:
        stranger.close()
    assert ex.submit(echo, {}, 7).result(timeout=30) == 7
    assert lanes_open(ex) == [True]


def test_submitting_while_holding_a_lock_that_a_done_callback_needs_does_not_deadlock(htex):
    # The submitting thread may write to the lane itself, waiting briefly for the
    # interchange thread; that wait must give up, or this would deadlock.
    import threading
    ex = htex()
    wait_until(lambda: lanes_open(ex) == [True], "the manager's lane to open")
    user_lock = threading.RLock()   # re-entrant: a callback added to a done future runs right here
    seen = []

    def collect(fut):
        with user_lock:
            seen.append(fut.result())

    with user_lock:
        futs = [ex.submit(echo, {}, i) for i in range(100)]
        for f in futs:
            f.add_done_callback(collect)
        futs += [ex.submit(echo, {}, i) for i in range(100, 200)]
    assert [f.result(timeout=60) for f in futs] == list(range(200))
    wait_until(lambda: len(seen) == 100, "the done callbacks of the first 100 tasks")
    assert sorted(seen) == list(range(100))


def test_a_local_manager_reaching_a_non_loopback_address_also_gets_the_lane(htex):
    from parsl.addresses import get_all_addresses
    own = [a for a in get_all_addresses() if not a.startswith("127.") and a != "::1" and ":" not in a]
    if not own:
        pytest.skip("this host has no non-loopback IPv4 address")
    ex = htex(address=own[0])
    wait_until(lambda: lanes_open(ex) == [True], "the manager's lane to open")
    assert ex.submit(echo, {}, "here").result(timeout=30) == "here"
