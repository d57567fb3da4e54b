"""The UDP radio's receiving end: a spawned process that binds the port, checks each
datagram's HMAC and puts the messages on a multiprocessing queue.  Its own process (as in
Parsl) so that a flood of datagrams never takes the workflow process's GIL; errors go to
``<logdir>/monitoring_udp_router.log``."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import socket
from typing import Optional

from parsl.monitoring.radios.base import MonitoringRadioReceiver
from parsl.multiprocessing import SpawnEvent, SpawnProcess, SpawnQueue, join_terminate_close_proc

logger = logging.getLogger(__name__)

#: how often the receiving process looks at its stop flag while no datagram comes
POLL_S = 0.1
START_TIMEOUT_S = 60


def sign(key: bytes, digest: str, data: bytes) -> bytes:
    return hmac.new(key, data, digest).digest()


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
        ready.put(("error", e.strerror or str(e)))
        return
    sock.settimeout(POLL_S)
    ready.put(("ok", sock.getsockname()[1]))
    sig_len = hashlib.new(hmac_digest).digest_size
    log.info("UDP radio receiver listening on %s:%d", bind, sock.getsockname()[1])

    def take(data: bytes) -> None:
        if len(data) <= sig_len:
            log.error("dropped a datagram of %d bytes: too short to hold a signature and a message", len(data))
            return
        sig, body = data[:sig_len], data[sig_len:]
        if not hmac.compare_digest(sig, sign(hmac_key, hmac_digest, body)):
            log.error("dropped a datagram whose HMAC does not match this run's key")
            return
        try:
            message = pickle.loads(body)
        except Exception:
            log.exception("dropped a signed datagram that does not unpickle")
            return
        queue.put(message)

    while not exit_event.is_set():
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError as e:          # e.g. an ICMP error reported on the socket: keep listening
            log.error("receive failed: %s", e)
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
    sock.close()
    queue.close()
    queue.join_thread()       # everything put is in the pipe before this process ends
    log.info("UDP radio receiver stopped")
