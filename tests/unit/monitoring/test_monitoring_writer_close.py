"""Closing the writer process: its timeout bounds a stretch without progress, so a writer
working through a long burst's backlog is never stopped (which would lose what it had not
committed), while one that stopped acknowledging chunks still is; and the router's last
chunk is written whole before anything else touches the pipe."""
import collections
import subprocess
import threading

from parsl._monitoring.router import MonitoringRouter
from parsl._monitoring.writer_client import WriterProcessClient
from parsl.monitoring.message_type import MessageType


class FakeWriter:
    """A writer process that acknowledges one chunk of ``client`` per wait that times
    out, ``progress`` times, then either exits or hangs until terminated."""

    def __init__(self, client, progress, exits):
        self.client, self.progress, self.exits = client, progress, exits
        self.terminated = False
        self.returncode = None

    def wait(self, timeout=None):
        if self.terminated:
            self.returncode = -15
            return -15
        if self.progress:
            self.progress -= 1
            self.client._unacked.popleft()          # what poll() does when an ack arrives
            self.client.acked += 1
            raise subprocess.TimeoutExpired("writer", timeout)
        if self.exits:
            self.returncode = 0
            return 0
        raise subprocess.TimeoutExpired("writer", timeout)

    def terminate(self):
        self.terminated = True

    def kill(self):
        self.terminated = True

    def poll(self):
        return self.returncode


def client_with(chunks, progress, exits):
    c = object.__new__(WriterProcessClient)
    c._unacked = collections.deque((i, b"", b"") for i in range(chunks))
    c._closed, c._w, c._reply, c._ready, c._buf = False, None, None, True, b""
    c.done = False
    c.acked = 0
    c.proc = FakeWriter(c, progress, exits)
    return c


def test_a_writer_still_committing_chunks_is_waited_for_past_the_timeout():
    c = client_with(chunks=5, progress=5, exits=True)
    assert c.close(timeout=0.01) == 0
    assert not c.proc.terminated and not c._unacked


def test_a_writer_that_stops_acknowledging_is_terminated_after_the_timeout():
    c = client_with(chunks=5, progress=2, exits=False)
    assert c.close(timeout=0.01) == -15
    assert c.proc.terminated and len(c._unacked) == 3


class BlockedPipeClient:
    """A client whose send blocks, as a pipe write does while the writer is busy with
    earlier chunks; each poll acknowledges a chunk, and after ``acks_then_free`` of them
    the write completes (None: the writer is hung).  Records the order of what happens."""

    def __init__(self, acks_then_free):
        self.log = []
        self.acked = 0
        self.left = acks_then_free
        self.free = threading.Event()
        self.killed = False
        self.done, self.restarts, self.final_reports = True, 0, []

    def send(self, items, burst=False):
        self.log.append("send")
        self.free.wait()
        if self.killed:
            raise OSError("broken pipe")
        self.log.append("sent")

    def poll(self):
        if self.left is not None:          # a writer at work: every poll sees an ack
            self.acked += 1
            if self.left == 0:
                self.free.set()
            else:
                self.left -= 1
        return []

    def alive(self):
        return True

    # the real rule (it uses only acked and poll): what the router relies on
    wait_while_progressing = WriterProcessClient.wait_while_progressing

    def kill(self):
        self.log.append("kill")
        self.killed = True
        self.free.set()

    def close(self, timeout):
        self.log.append("close")
        return 0


def router_with(client):
    r = MonitoringRouter(client, flush_period=3600)
    r.start()
    r.put((MessageType.NODE_INFO, {"n": 1}))
    return r


def test_close_waits_for_a_last_chunk_the_busy_writer_is_still_taking():
    client = BlockedPipeClient(acks_then_free=3)
    router_with(client).close(timeout=0.01)
    assert client.log == ["send", "sent", "close"], "nothing else may write to the pipe mid-chunk"


def test_close_kills_a_writer_that_acknowledges_nothing_then_closes():
    client = BlockedPipeClient(acks_then_free=None)
    router_with(client).close(timeout=0.01)
    # (the router thread may reach its send before or after the kill: either way the
    # chunk is not written, and the pipe is closed only after that)
    assert sorted(client.log[:2]) == ["kill", "send"] and client.log[2:] == ["close"]
