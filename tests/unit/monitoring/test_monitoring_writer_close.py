"""Closing the writer process: its timeout bounds a stretch without progress, so a writer
working through a long burst's backlog is never stopped (which would lose what it had not
committed), while one that stopped acknowledging chunks still is."""
import collections
import subprocess

from parsl._monitoring.writer_client import WriterProcessClient


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
