"""The UDP radio's receiving end: a spawned process that binds the port, checks each
datagram's HMAC and puts the messages on a multiprocessing queue.  Its own process (as in
Parsl) so that a flood of datagrams never takes the workflow process's GIL; errors go to
``<logdir>/monitoring_udp_router.log``.

A datagram is ``HMAC(header + pickle) + header + pickle``; the header (``HEADER``) holds the
sender's random id, its sequence number and the time it was sent.  A signed datagram seen
before (same sender and number, or older than the sender's last ``REPLAY_WINDOW``
numbers) or sent more than ``MAX_AGE_S`` from now is dropped: a captured datagram cannot be
replayed into the database (``ReplayGuard``).  Dropped datagrams are counted and logged as
one summary line per ``LOG_INTERVAL_S`` (``DropLog``): a flood of garbage cannot fill the disk.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import socket
import struct
import time
from typing import Callable, Dict, List, Optional

from parsl.monitoring.radios.base import MonitoringRadioReceiver
from parsl.multiprocessing import SpawnEvent, SpawnProcess, SpawnQueue, join_terminate_close_proc

logger = logging.getLogger(__name__)

#: how often the receiving process looks at its stop flag while no datagram comes
POLL_S = 0.1
START_TIMEOUT_S = 60


#: sender id (8 random bytes), sequence number, send time (epoch seconds)
HEADER = struct.Struct("!8sQd")
#: how far back (in sequence numbers) a sender's datagrams may arrive out of order
REPLAY_WINDOW = 4096
#: a datagram sent longer ago (or later, by the sender's clock) than this is dropped; the
#: hosts' clocks must agree to well within it
MAX_AGE_S = 300.0
LOG_INTERVAL_S = 10.0


def sign(key: bytes, digest: str, data: bytes) -> bytes:
    return hmac.new(key, data, digest).digest()


class ReplayGuard:
    """Which signed datagrams are new: per sender, the highest number seen and the numbers
    seen within ``REPLAY_WINDOW`` of it.  Senders silent for ``MAX_AGE_S`` are forgotten
    (their old datagrams are refused by age)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self._senders: Dict[bytes, list] = {}      # id -> [highest, seen numbers, last heard]
        self._next_sweep = 0.0

    def check(self, sender: bytes, seq: int, sent: float) -> Optional[str]:
        """None if the datagram is new (it is remembered), else why it is refused."""
        now = self.clock()
        if abs(now - sent) > MAX_AGE_S:
            return "stale"
        if now >= self._next_sweep:
            self._next_sweep = now + MAX_AGE_S
            for key in [k for k, st in self._senders.items() if now - st[2] > MAX_AGE_S]:
                del self._senders[key]
        st = self._senders.get(sender)
        if st is None:
            self._senders[sender] = [seq, {seq}, now]
            return None
        highest, seen = st[0], st[1]
        if seq in seen or seq + REPLAY_WINDOW <= highest:
            return "replayed"
        seen.add(seq)
        st[2] = now
        if seq > highest:
            st[0] = seq
            if len(seen) > 2 * REPLAY_WINDOW:
                st[1] = {n for n in seen if n + REPLAY_WINDOW > seq}
        return None


#: what each reason a datagram is dropped reads as in the log
DROP_REASONS = {
    "short": "too short to hold a signature and a message",
    "hmac": "whose HMAC does not match this run's key",
    "replayed": "replayed (a sequence number this sender used already)",
    "stale": f"sent more than {MAX_AGE_S:.0f} s from now (replayed, or the hosts' clocks disagree)",
    "unpickle": "signed but not unpicklable",
}


class DropLog:
    """Counts dropped datagrams by reason; ``tick`` logs one line per ``LOG_INTERVAL_S``
    for all of them."""

    def __init__(self, log: logging.Logger, clock: Callable[[], float] = time.monotonic):
        self.log = log
        self.clock = clock
        self.counts: Dict[str, int] = {}
        self._since = clock()

    def drop(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1

    def tick(self, force: bool = False) -> None:
        now = self.clock()
        if not self.counts or (not force and now - self._since < LOG_INTERVAL_S):
            if not self.counts:
                self._since = now
            return
        parts: List[str] = [f"{n} {DROP_REASONS.get(r, r)}" for r, n in sorted(self.counts.items())]
        self.log.error("dropped %d datagrams in the last %.0f s: %s", sum(self.counts.values()),
                       now - self._since, "; ".join(parts))
        self.counts.clear()
        self._since = now


class UDPRadioReceiver(MonitoringRadioReceiver):
    def __init__(self, process, exit_event, port: int, atexit_timeout: float):
        self.process = process
        self.port = port
        self._exit = exit_event
        self._atexit_timeout = atexit_timeout
        self._closed = False

    def shutdown(self) -> None:
        """Stop the process after it has put what already arrived on the queue."""
        if self._closed:
            return
        self._closed = True
        self._exit.set()
        join_terminate_close_proc(self.process, timeout=max(10.0, self._atexit_timeout + 5))


def start_udp_receiver(*, monitoring_messages, port: Optional[int], logdir: Optional[str],
                       debug: bool = False, atexit_timeout: float = 3, hmac_key: bytes,
                       hmac_digest: str = "sha512", bind: str = "0.0.0.0") -> UDPRadioReceiver:
    """Start the receiving process; return once it listens (its port is then known)."""
    ready = SpawnQueue()
    exit_event = SpawnEvent()
    process = SpawnProcess(target=_serve, name="parsl-udp-radio", daemon=True,
                           args=(ready, exit_event, monitoring_messages, bind, port, hmac_key, hmac_digest,
                                 logdir, debug))
    process.start()
    try:
        status, value = ready.get(timeout=START_TIMEOUT_S)
    except Exception:
        status, value = "error", f"the UDP radio's receiving process did not start within {START_TIMEOUT_S} s"
    if status != "ok":
        exit_event.set()
        join_terminate_close_proc(process, timeout=5)
        raise OSError(f"UDPRadio: cannot listen on UDP port {port}: {value} "
                      "(give another port, or None for a free one)")
    return UDPRadioReceiver(process, exit_event, value, atexit_timeout)


def _serve(ready, exit_event, queue, bind, port, hmac_key, hmac_digest, logdir, debug) -> None:
    log = logging.getLogger("parsl.monitoring.udp_router")
    if logdir:
        os.makedirs(logdir, exist_ok=True)
        handler = logging.FileHandler(os.path.join(logdir, "monitoring_udp_router.log"))
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s [%(levelname)s] %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((bind, port or 0))
    except OSError as e:
        if bind == "0.0.0.0" or port:
            ready.put(("error", e.strerror or str(e)))
            return
        # The radio's address is not one of this host's (senders reach it through NAT, say):
        # listen on every interface, as before.
        log.info("cannot bind the radio's address %s (%s); listening on every interface", bind, e)
        bind = "0.0.0.0"
        sock.bind((bind, 0))
    sock.settimeout(POLL_S)
    ready.put(("ok", sock.getsockname()[1]))
    sig_len = hashlib.new(hmac_digest).digest_size
    log.info("UDP radio receiver listening on %s:%d", bind, sock.getsockname()[1])
    guard = ReplayGuard()
    drops = DropLog(log)

    def take(data: bytes) -> None:
        if len(data) <= sig_len + HEADER.size:
            drops.drop("short")
            return
        sig, body = data[:sig_len], data[sig_len:]
        if not hmac.compare_digest(sig, sign(hmac_key, hmac_digest, body)):
            drops.drop("hmac")
            return
        why = guard.check(*HEADER.unpack_from(body))
        if why is not None:
            drops.drop(why)
            return
        try:
            message = pickle.loads(body[HEADER.size:])
        except Exception:
            drops.drop("unpickle")
            return
        queue.put(message)

    while not exit_event.is_set():
        drops.tick()
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:          # e.g. an ICMP error reported on the socket: keep listening
            drops.drop("receive failed")
            continue
        take(data)
    # Stopping: what the socket already holds is taken too.
    sock.setblocking(False)
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        take(data)
    drops.tick(force=True)
    sock.close()
    queue.close()
    queue.join_thread()       # everything put is in the pipe before this process ends
    log.info("UDP radio receiver stopped")
