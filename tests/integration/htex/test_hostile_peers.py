"""What an unauthenticated peer can do to an unencrypted interchange: nothing (issue 18, items 2-3).

Malformed frames are dropped without stopping the interchange; a peer that never
registered is ignored and nothing it sends is unpickled; a registered peer's result counts
only for a task it holds.  A fault inside the interchange fails every outstanding future.
"""
import os
import pickle
import sys
import time

import cloudpickle
import psutil
import pytest
import zmq

from parsl._htex import protocol
from parsl.executors.errors import BadStateException
from parsl.providers import LocalProvider

from _htex_helpers import htex, manager_pids  # noqa: F401
from waiting import wait_until

pytestmark = pytest.mark.htex
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class Marker:
    """Unpickling this creates a file: proof that the network's bytes ran in our process."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def forged_result(task_id, value):
    return protocol.encode_result(task_id, protocol.OUTCOME_RESULT, pickle.dumps(value))


@pytest.fixture
def peer():
    ctx = zmq.Context()
    socks = []

    def connect(port, uid=b"intruder"):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.IDENTITY, uid)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(f"tcp://127.0.0.1:{port}")
        socks.append(s)
        return s
    yield connect
    for s in socks:
        s.close(0)
    ctx.term()


def registration(uid="intruder"):
    # No workers: once a task gives a priority, a manager holds no more than it asked for,
    # so the interchange never sends this peer a task (every test's tasks give one).
    return protocol.registration_message(protocol.Registration.create(
        uid=uid, block_id="0", worker_count=0, prefetch_capacity=0, start_time=time.time(), os="Linux",
        hostname="elsewhere", dir="/", cpu_count=1, total_memory=1, pid=1))


def registered(ex, uid):
    return any(m["manager"] == uid for m in ex.connected_managers())


def test_malformed_frames_are_dropped_and_the_interchange_keeps_working(htex, peer):
    ex = htex(provider=LocalProvider(init_blocks=0))
    fut = ex.submit(pow, {"priority": 1}, 2, 10)
    s = peer(ex.worker_port)
    s.send_multipart([protocol.REGISTER, pickle.dumps(1)])          # a 2-frame registration carrying a pickled int
    s.send_multipart([protocol.REGISTER])                           # no registration at all
    s.send_multipart([protocol.REGISTER, b'{"python_v": 1}', b"x"])  # three frames
    s.send_multipart(registration())
    wait_until(lambda: registered(ex, "intruder"), "the peer's valid registration")
    s.send_multipart([protocol.RESULTS, b"\x01"])                   # a result record of one byte
    s.send_multipart([protocol.RESULTS, b"\x00" * 8 + bytes([77]) + b"junk"])   # an unknown outcome
    s.send_multipart([protocol.RETURNED, b"\x01"])
    s.send_multipart([b"?", b"what"])
    bad = peer(ex.worker_port, uid=b"\xff\xfe")                     # an identity that is not text
    bad.send_multipart(registration())
    ex.scale_out_facade(1)
    assert fut.result(timeout=30) == 1024
    assert ex.interchange._thread.is_alive() and not ex.bad_state_is_set


def test_unregistered_peers_are_ignored_and_never_unpickled(htex, peer, tmp_path):
    ex = htex(provider=LocalProvider(init_blocks=0))
    marker = str(tmp_path / "pwned")
    futs = [ex.submit(pow, {"priority": 1}, 2, i) for i in range(20)]
    s = peer(ex.worker_port)
    # Results for every task id, before registering: forged values and a pickle that runs code.
    s.send_multipart([protocol.RESULTS] + [forged_result(t, "forged") for t in range(1, 21)])
    s.send_multipart([protocol.RESULTS, forged_result(1, Marker(marker))])
    s.send_multipart([protocol.HEARTBEAT])
    assert s.poll(10000), "an unknown peer's heartbeat is answered"
    assert s.recv_multipart()[0] == protocol.STOP, "with STOP"
    # Registered, it still cannot complete tasks it was never given.
    s.send_multipart(registration())
    wait_until(lambda: registered(ex, "intruder"), "the peer's registration")
    s.send_multipart([protocol.RESULTS] + [forged_result(t, "forged") for t in range(1, 21)])
    s.send_multipart([protocol.RESULTS, forged_result(2, Marker(marker))])
    ex.interchange.call(lambda ix: None)     # the interchange has read all of the above
    ex.interchange.call(lambda ix: None)
    ex.scale_out_facade(1)
    assert [f.result(timeout=30) for f in futs] == [2 ** i for i in range(20)]
    assert not os.path.exists(marker), "nothing from the network was unpickled"


def test_an_unreadable_registration_with_encryption_off_does_not_stop_the_run(htex, peer):
    ex = htex()
    manager_pids(ex)
    s = peer(ex.worker_port)
    s.send_multipart([protocol.REGISTER, pickle.dumps({"parsl_v": "an older client"})])
    assert s.poll(10000) and s.recv_multipart()[0] == protocol.REJECT
    assert not ex.bad_state_is_set
    assert ex.submit(pow, {}, 3, 3).result(timeout=30) == 27


def test_a_fault_in_the_interchange_fails_every_outstanding_future(htex):
    ex = htex(provider=LocalProvider(init_blocks=0))
    futs = [ex.submit(pow, {}, 2, i) for i in range(5)]

    def boom():
        raise RuntimeError("injected fault")
    ex.interchange.call(lambda ix: setattr(ix, "_take_incoming", boom))
    futs.append(ex.submit(pow, {}, 2, 5))   # wakes the loop, which trips on the fault
    for f in futs:
        err = f.exception(timeout=30)
        assert isinstance(err, BadStateException)
        assert "interchange thread stopped" in str(err) and "injected fault" in str(err)
    assert ex.bad_state_is_set
    with pytest.raises(Exception, match="injected fault"):
        ex.submit(pow, {}, 2, 2)


def test_by_default_local_blocks_listen_on_loopback_only(htex):
    ex = htex(address=None)
    assert ex.submit(pow, {}, 2, 3).result(timeout=30) == 8
    listening = {c.laddr.ip for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == ex.worker_port}
    assert listening == {"127.0.0.1"}


def test_a_manager_that_breaks_its_lane_framing_is_dropped_and_its_tasks_requeued(htex, peer):
    import select

    from parsl._htex import lane
    ex = htex(provider=LocalProvider(init_blocks=0))
    s = peer(ex.worker_port, uid=b"breaker")
    s.send_multipart(registration("breaker")[:1] + [registration("breaker")[1].replace(
        b'"worker_count": 0', b'"worker_count": 1').replace(b'"max_capacity": 0', b'"max_capacity": 1')])
    assert s.poll(10000)
    kind, port, token = s.recv_multipart()
    assert kind == protocol.LANE, "a peer on this host is offered the lane"
    conn = lane.connect(int(port), token, b"breaker")
    try:
        def wait_for(kind, what):
            got = []
            while not any(k == kind for k, _ in got):
                assert select.select([conn.sock], [], [], 10)[0], what
                got += conn.receive()
        wait_for(protocol.LANE_ACK, "the interchange to take the lane")
        fut = ex.submit(pow, {}, 2, 7)
        wait_for(protocol.TASKS, "the task to arrive on the lane")
        conn.sock.sendall(b"\x00\x00\x00\x00")        # a lane message without its kind
        kinds = []
        while not kinds or kinds[-1] == protocol.PING:   # the round-trip probe sent at registration
            assert s.poll(10000)
            kinds.append(s.recv_multipart()[0])
        assert kinds[-1] == protocol.STOP
        ex.scale_out_facade(1)
        assert fut.result(timeout=30) == 128, "the task it held went back to the queue"
    finally:
        conn.close()
