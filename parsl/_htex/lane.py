"""The direct lane: tasks and results between the interchange and a manager on the same host.

Why it exists: a ZeroMQ message passes through ZMQ's I/O thread on both sides, so one HTEX
round trip wakes four extra threads (user I/O thread, interchange, manager I/O thread,
manager, in each direction).  On the 2-vCPU VMs we measure on, waking a sleeping thread on
the other CPU costs 10-30 us (the waker's ``write`` alone sends an inter-processor
interrupt), and those wake-ups were ~40 % of the round trip.  A plain TCP socket, read and
written by the interchange thread and the manager's loop themselves, has none of them.

Scope: only tasks (interchange -> manager) and results (manager -> interchange) use the
lane.  Registration, heartbeats, RECALL/RETURNED, STOP, PING stay on ZMQ, whose liveness
rules (docs/htex.md) are unchanged.  The lane is offered only to a manager on this host
(its ZMQ connection comes from a loopback address, or from the very address it reached:
a connection between two addresses of one host), and it always connects to 127.0.0.1,
so its bytes never leave the host; that is why it needs no CurveZMQ encryption.  The
manager proves itself with a random token it was sent over its ZMQ connection (encrypted
by default), checked in constant time; the interchange answers with an ACK carrying the
same token, and only then does the manager send results on the lane (so a stranger
listening on that port in some other network namespace can never swallow results).

The bytes (hello, framing, ACK) are defined in ``protocol.py``; this module only moves them.
"""
from __future__ import annotations

import errno
import hmac
import os
import socket
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from parsl._htex import protocol
from parsl._htex.protocol import LaneMessage

#: One recv per readable event; large enough for a full batch of small records.
RECV_CHUNK = 1 << 18
#: Set CHERVIL_HTEX_LANE=0 to keep every message on ZMQ (to compare, or to debug).
ENV_SWITCH = "CHERVIL_HTEX_LANE"
#: A connection that has not finished its hello this long after it was accepted is closed
#: (a manager sends it at once): half-open connections cannot pile up descriptors.
HELLO_DEADLINE_S = 5.0
#: At most this many connections may wait for their hello; the oldest is closed for a new one.
MAX_GREETINGS = 64
#: accept() failing for want of descriptors (EMFILE, ENFILE) or memory: stop watching the
#: listener this long, so the loop does not spin on a socket that stays readable.
ACCEPT_PAUSE_S = 0.5
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def new_token() -> bytes:
    return os.urandom(protocol.LANE_TOKEN_BYTES)


def check_hello(buf: protocol.Buffer, token: bytes) -> Tuple[Optional[bytes], int]:
    """(uid, bytes used) once a whole hello is in ``buf``; (None, 0) while incomplete.

    Raises ValueError for anything that is not a hello carrying ``token`` (compared in
    constant time).
    """
    hello = protocol.parse_hello(buf)
    if hello is None:
        # Enough bytes for the token already: refuse a wrong one without waiting for the rest.
        head = len(protocol.LANE_MAGIC) + protocol.LANE_TOKEN_BYTES
        if len(buf) >= head and not hmac.compare_digest(bytes(buf[len(protocol.LANE_MAGIC):head]), token):
            raise ValueError("wrong lane token")
        return None, 0
    if not hmac.compare_digest(hello.token, token):
        raise ValueError("wrong lane token")
    return hello.uid, hello.size


def _plain(host: str) -> str:
    host = host.split("%", 1)[0]
    return host[7:] if host.startswith("::ffff:") else host


def is_same_host_peer(fd: Optional[int]) -> bool:
    """True when the TCP connection on ``fd`` (owned by ZMQ: we only look) comes from this
    host: from a loopback address, or from the same address it was accepted on."""
    if fd is None or fd < 0:
        return False
    try:
        dup = socket.socket(fileno=os.dup(fd))   # family and type are read from the fd
    except OSError:
        return False
    try:
        peer = _plain(dup.getpeername()[0])
        local = _plain(dup.getsockname()[0])
    except (OSError, IndexError, TypeError):
        return False
    finally:
        dup.close()
    return peer == "::1" or peer.startswith("127.") or peer == local


class LaneFramingError(EOFError):
    """The peer sent bytes that are not lane framing: the connection is unusable (and the
    peer is broken or hostile)."""


class LaneConnection:
    """One end of an established lane: a non-blocking socket with input and output buffers.

    Used by one thread at a time (its owner's loop).  ``send`` never blocks: what the kernel
    does not take waits in ``outbuf`` and the owner watches POLLOUT until ``flush`` empties it.
    """

    __slots__ = ("sock", "fd", "inbuf", "outbuf", "closed")

    def __init__(self, sock: socket.socket, inbuf: bytes = b""):
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.sock = sock
        self.fd = sock.fileno()
        self.inbuf = bytearray(inbuf)
        self.outbuf = bytearray()
        self.closed = False

    def send(self, kind: bytes, records: Iterable[bytes]) -> bool:
        """Queue one message and write what the kernel takes; True while bytes are still waiting."""
        data = protocol.encode_lane_message(kind, records)
        if self.outbuf:
            self.outbuf += data
            return self.flush()
        try:
            n = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        if n < len(data):
            self.outbuf += memoryview(data)[n:]
        return bool(self.outbuf)

    def flush(self) -> bool:
        """Write waiting bytes; True while some are still waiting.  Errors surface in ``receive``."""
        while self.outbuf:
            try:
                n = self.sock.send(self.outbuf)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                self.outbuf.clear()   # the peer is gone; the reader side sees EOF
                return False
            del self.outbuf[:n]
        return False

    def receive(self) -> List[LaneMessage]:
        """The messages that are complete now.  Raises EOFError when the peer has closed."""
        try:
            data = self.sock.recv(RECV_CHUNK)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as e:
            raise EOFError(str(e)) from None
        if not data:
            raise EOFError("lane closed by the peer")
        buf = self.inbuf
        try:
            if not buf:
                messages, used = protocol.split_lane_messages(data)
                if used < len(data):
                    buf += memoryview(data)[used:]
                return messages
            buf += data
            messages, used = protocol.split_lane_messages(buf)
        except ValueError as e:     # not our framing: treat it as the peer gone
            raise LaneFramingError(f"bad framing on the lane: {e}") from None
        del buf[:used]
        return messages

    def buffered(self) -> List[LaneMessage]:
        """The complete messages already in the input buffer (bytes that came with the hello).
        Raises EOFError for bad framing."""
        try:
            messages, used = protocol.split_lane_messages(self.inbuf)
        except ValueError as e:
            raise LaneFramingError(f"bad framing on the lane: {e}") from None
        del self.inbuf[:used]
        return messages

    def close(self, poller: Any = None) -> None:
        """Close; with ``poller`` (a zmq.Poller polling this connection), stop polling it
        first.  Either end uses it."""
        if poller is not None:
            try:
                poller.unregister(self.fd)
            except KeyError:
                pass
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


def connect(port: int, token: bytes, uid: bytes, timeout: float = 2.0) -> LaneConnection:
    """The manager's side: open the lane to the interchange on this host."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(protocol.encode_hello(token, uid))
    except OSError:
        sock.close()
        raise
    return LaneConnection(sock)


class LaneListener:
    """The interchange's side: a loopback listening socket and the hellos not yet complete."""

    def __init__(self) -> None:
        self.token = new_token()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.fd = self.sock.fileno()
        # fd -> (socket, bytearray, deadline) of connections before their hello, oldest first
        self.greeting: Dict[int, Tuple[socket.socket, bytearray, float]] = {}

    def accept(self) -> Tuple[List[int], List[int], bool]:
        """Accept waiting connections: (fds to watch for their hello, fds closed to make room,
        out_of_resources).  ``out_of_resources``: accept failed for want of descriptors or
        memory; the caller stops watching the listener for ACCEPT_PAUSE_S."""
        fds: List[int] = []
        closed: List[int] = []
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return fds, closed, False
            except OSError as e:
                if e.errno in _OUT_OF_RESOURCES:
                    # Free one descriptor now: the oldest connection still owing its hello.
                    closed.extend(self._close_oldest(1))
                    return fds, closed, True
                return fds, closed, False
            conn.setblocking(False)
            if len(self.greeting) >= MAX_GREETINGS:
                closed.extend(self._close_oldest(len(self.greeting) - MAX_GREETINGS + 1))
            self.greeting[conn.fileno()] = (conn, bytearray(), time.monotonic() + HELLO_DEADLINE_S)
            fds.append(conn.fileno())

    def _close_oldest(self, n: int) -> List[int]:
        out = []
        for fd in list(self.greeting)[:n]:
            self.greeting.pop(fd)[0].close()
            out.append(fd)
        return out

    def expire(self, now: float) -> Tuple[List[int], float]:
        """Close greetings past their deadline: (their fds, the next deadline or inf)."""
        late = [fd for fd, (_, _, deadline) in self.greeting.items() if deadline <= now]
        for fd in late:
            self.greeting.pop(fd)[0].close()
        nxt = min((d for _, _, d in self.greeting.values()), default=float("inf"))
        return late, nxt

    def read_hello(self, fd: int) -> Tuple[Optional[bytes], Optional[LaneConnection], bool]:
        """(uid, lane, finished) for a greeting connection.  finished=True means stop
        watching ``fd`` as a greeting: the lane is returned, or it was refused and closed."""
        conn, buf, _ = self.greeting[fd]
        try:
            data = conn.recv(protocol.MAX_HELLO)
        except (BlockingIOError, InterruptedError):
            return None, None, False
        except OSError:
            data = b""
        buf += data
        try:
            if not data:
                raise ValueError("closed before its hello")
            uid, used = check_hello(buf, self.token)
            if uid is None:
                if len(buf) >= protocol.MAX_HELLO:
                    raise ValueError("hello too long")
                return None, None, False
        except ValueError:
            del self.greeting[fd]
            conn.close()
            return None, None, True
        del self.greeting[fd]
        return uid, LaneConnection(conn, bytes(buf[used:])), True

    def close(self) -> None:
        for conn, _, _ in self.greeting.values():
            conn.close()
        self.greeting.clear()
        try:
            self.sock.close()
        except OSError:
            pass
