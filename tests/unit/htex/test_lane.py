"""The direct lane's framing (protocol.py), hello and non-blocking buffering (no threads: both ends in one)."""
import os
import socket

import pytest

from parsl._htex import lane as lanes
from parsl._htex import protocol


def test_messages_round_trip_when_cut_at_every_byte():
    wire = protocol.encode_lane_message(b"T", [b"a", b"", b"x" * 300]) + protocol.encode_lane_message(b"R", [b"zz"])
    for cut in range(len(wire) + 1):
        buf = bytearray(wire[:cut])
        first, used = protocol.split_lane_messages(buf)
        del buf[:used]
        buf += wire[cut:]
        rest, used2 = protocol.split_lane_messages(buf)
        assert used + used2 == len(wire)
        assert first + rest == [(b"T", [b"a", b"", b"x" * 300]), (b"R", [b"zz"])]


def test_hello_is_checked_and_may_arrive_in_pieces():
    token = lanes.new_token()
    hello = protocol.encode_hello(token, b"manager-1") + b"tail"
    for cut in range(len(hello) - 4):
        assert lanes.check_hello(hello[:cut], token) == (None, 0)
    assert lanes.check_hello(hello, token) == (b"manager-1", len(hello) - 4)
    with pytest.raises(ValueError, match="token"):
        lanes.check_hello(hello, lanes.new_token())
    with pytest.raises(ValueError, match="not a lane hello"):
        lanes.check_hello(b"GET / HTTP/1.1\r\n", token)


def test_send_never_blocks_and_everything_arrives_in_order():
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)   # small, so writes are partial
    sender, receiver = lanes.LaneConnection(a), lanes.LaneConnection(b)
    try:
        big = [bytes([i % 251]) * 50_000 for i in range(40)]     # ~2 MB: more than the socket buffers
        waiting = False
        for i in range(0, len(big), 4):
            waiting = sender.send(b"T", big[i:i + 4])
        assert waiting, "expected the kernel to leave some bytes waiting"
        got = []
        while waiting or len(got) < len(big):
            waiting = sender.flush()
            for kind, records in receiver.receive():
                assert kind == b"T"
                got.extend(records)
        assert got == big
    finally:
        sender.close()
        receiver.close()


def test_closed_peer_is_eof():
    a, b = socket.socketpair()
    receiver = lanes.LaneConnection(b)
    a.close()
    with pytest.raises(EOFError):
        receiver.receive()
    receiver.close()
    receiver.close()   # idempotent


def test_listener_accepts_the_token_and_keeps_bytes_sent_with_the_hello():
    listener = lanes.LaneListener()
    conns = []
    try:
        good = lanes.connect(listener.port, listener.token, b"m1")
        conns.append(good)
        good.send(b"R", [b"result"])
        bad = socket.create_connection(("127.0.0.1", listener.port))
        conns.append(bad)
        bad.sendall(protocol.encode_hello(lanes.new_token(), b"intruder"))
        outcomes = {}
        while len(outcomes) < 2:
            for fd in listener.accept()[0]:
                outcomes.setdefault(fd, None)
            for fd in list(listener.greeting):
                uid, conn, finished = listener.read_hello(fd)
                if finished:
                    outcomes[fd] = (uid, conn)
        accepted = [(uid, conn) for uid, conn in outcomes.values() if conn is not None]
        assert [uid for uid, _ in accepted] == [b"m1"]
        conn = accepted[0][1]
        conns.append(conn)
        messages = conn.buffered()
        while not messages:
            messages = conn.receive()
        assert messages == [(b"R", [b"result"])]
        assert not listener.greeting
        assert bad.recv(10) == b""      # the refused connection was closed
    finally:
        for c in conns:
            c.close()
        listener.close()


def test_local_peers_are_recognised():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    try:
        assert lanes.is_same_host_peer(conn.fileno())
        assert not lanes.is_same_host_peer(None)
        assert not lanes.is_same_host_peer(-1)
    finally:
        for s in (client, conn, server):
            s.close()


def test_the_lane_can_be_switched_off(monkeypatch):
    monkeypatch.setenv(lanes.ENV_SWITCH, "0")
    assert not lanes.enabled()
    monkeypatch.setenv(lanes.ENV_SWITCH, "1")
    assert lanes.enabled()


def _manager_with_lane():
    import zmq

    from parsl._htex.manager import Manager
    from parsl._htex.settings import ManagerSettings
    m = Manager(ManagerSettings(addresses=("127.0.0.1",), port=1, uid="m1", block_id="0", worker_count=1))
    a, b = socket.socketpair()
    m.poller = zmq.Poller()
    m.lane = lanes.LaneConnection(a)
    m.lane_token = lanes.new_token()
    m.poller.register(m.lane.fd, zmq.POLLIN)
    m.sock = _RecordingSocket()
    return m, b


class _RecordingSocket:
    """Stands in for the manager's ZMQ socket."""

    def __init__(self):
        self.sent = []

    def send_multipart(self, frames):
        self.sent.append(frames)

    def close(self, linger=None):
        pass


def _close_manager(m, peer):
    peer.close()
    m.close()
    os.close(m.lifeline_r)


def test_manager_uses_the_lane_for_results_only_after_the_interchange_ack():
    import zmq
    m, peer = _manager_with_lane()
    try:
        m._send([b"R", b"early"])                       # no ACK yet: goes on ZMQ
        assert m.sock.sent == [[b"R", b"early"]]
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            peer.recv(100)
        peer.sendall(protocol.encode_lane_message(protocol.LANE_ACK, [m.lane_token])
                     + protocol.encode_lane_message(b"T", [b"task"]))
        while not m.queue:
            m._serve_lane(zmq.POLLIN)
        assert m.lane_ready and list(m.queue) == [b"task"]
        m._send([b"R", b"result"])
        peer.setblocking(True)
        assert peer.recv(100) == protocol.encode_lane_message(b"R", [b"result"])
    finally:
        _close_manager(m, peer)


def test_manager_drops_a_lane_that_does_not_answer_with_its_token():
    import zmq
    m, peer = _manager_with_lane()
    try:
        peer.sendall(protocol.encode_lane_message(protocol.LANE_ACK, [lanes.new_token()]))
        while m.lane is not None:
            m._serve_lane(zmq.POLLIN)
        assert not m.lane_ready
    finally:
        _close_manager(m, peer)
