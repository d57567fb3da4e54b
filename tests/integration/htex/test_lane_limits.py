"""The direct lane's listener under abuse: silent connections and no descriptors left (issue 18, item 6)."""
import errno
import socket

import pytest

from parsl._htex import lane

from _htex_helpers import htex, manager_pids  # noqa: F401
from waiting import wait_until

pytestmark = pytest.mark.htex


def lane_port(ex):
    return ex.interchange._lane_listener.port


def test_connections_that_never_say_hello_are_bounded_and_closed_after_a_deadline(htex, monkeypatch):
    monkeypatch.setattr(lane, "HELLO_DEADLINE_S", 0.5)
    ex = htex()
    manager_pids(ex)
    listener = ex.interchange._lane_listener
    silent = [socket.create_connection(("127.0.0.1", lane_port(ex))) for _ in range(3 * lane.MAX_GREETINGS)]
    try:
        wait_until(lambda: ex.interchange.call(lambda ix: len(listener.greeting)) > 0, "the connections accepted")
        assert ex.interchange.call(lambda ix: len(listener.greeting)) <= lane.MAX_GREETINGS
        wait_until(lambda: ex.interchange.call(lambda ix: len(listener.greeting)) == 0,
                   "half-open connections to be closed at their deadline", timeout=20)
        for s in silent:    # the interchange closed its end
            s.settimeout(10)
            assert s.recv(1) == b""
    finally:
        for s in silent:
            s.close()
    assert ex.submit(pow, {}, 2, 4).result(timeout=30) == 16


def test_accept_out_of_descriptors_pauses_the_listener_instead_of_spinning(htex, monkeypatch):
    ex = htex()
    manager_pids(ex)
    listener = ex.interchange._lane_listener
    real_accept = listener.sock.accept
    calls = []

    class NoDescriptors:
        def accept(self):
            calls.append(1)
            raise OSError(errno.EMFILE, "Too many open files")

        def __getattr__(self, name):
            return getattr(real_sock, name)
    real_sock = listener.sock
    ex.interchange.call(lambda ix: setattr(listener, "sock", NoDescriptors()))
    client = socket.create_connection(("127.0.0.1", lane_port(ex)))
    try:
        wait_until(lambda: ex.interchange.call(lambda ix: ix._listener_paused_until) is not None,
                   "the listener to pause after EMFILE")
        during_pause = len(calls)
        ex.interchange.call(lambda ix: None)
        ex.interchange.call(lambda ix: None)
        assert len(calls) == during_pause <= 2, "no accept() while paused: the loop is not spinning"
        ex.interchange.call(lambda ix: setattr(listener, "sock", real_sock))
        wait_until(lambda: ex.interchange.call(lambda ix: ix._listener_paused_until is None and
                                               len(listener.greeting) == 1),
                   "the listener to accept again after the pause")
    finally:
        client.close()
        del real_accept
    assert ex.submit(pow, {}, 3, 2).result(timeout=30) == 9
