"""A radio over UDP: one datagram per message, signed with HMAC so the receiver only
unpickles what a holder of this run's key sent (an open UDP port that unpickled
anything would run any code a stranger sends).  The key is made with the config and
travels with its pickled copies to the senders.

UDP can drop datagrams under load and a message must fit in one (about 64 KB); for
HTEX, Chervil's workers report over their result channel instead, which loses nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import secrets
import socket
import threading
from typing import Optional

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig

logger = logging.getLogger(__name__)

#: how often the receiving thread looks at its stop flag while no datagram comes
_POLL_S = 0.2


class UDPRadio(RadioConfig):
    def __init__(self, *, port: Optional[int] = None, atexit_timeout: float = 3, address: Optional[str] = None,
                 debug: bool = False, hmac_digest: str = "sha512"):
        try:
            hashlib.new(hmac_digest)
        except (ValueError, TypeError):
            raise ValueError(f"UDPRadio: unknown hmac_digest {hmac_digest!r}; use one of "
                             f"{sorted(hashlib.algorithms_guaranteed)}") from None
        if port is not None and not (0 <= int(port) < 65536):
            raise ValueError(f"UDPRadio: port {port} is not a UDP port number (0-65535; None picks a free one)")
        self.port = port
        self.atexit_timeout = atexit_timeout
        self.address = address
        self.debug = debug
        self.hmac_digest = hmac_digest
        self.hmac_key = secrets.token_bytes(32)

    def create_sender(self) -> MonitoringRadioSender:
        if self.port is None:
            raise RuntimeError("UDPRadio.create_sender() needs the port: call create_receiver() first, "
                               "or give UDPRadio(port=...)")
        return UDPRadioSender(self.address or "127.0.0.1", self.port, hmac_key=self.hmac_key,
                              hmac_digest=self.hmac_digest)

    def create_receiver(self, *, run_dir: str = None, resource_msgs, ip: str = None) -> MonitoringRadioReceiver:
        receiver = UDPRadioReceiver(resource_msgs, port=self.port, hmac_key=self.hmac_key,
                                    hmac_digest=self.hmac_digest, atexit_timeout=self.atexit_timeout)
        self.port = receiver.port
        if self.address is None:
            self.address = ip or "127.0.0.1"
        return receiver

    def __repr__(self) -> str:
        return (f"UDPRadio(port={self.port!r}, atexit_timeout={self.atexit_timeout!r}, address={self.address!r}, "
                f"debug={self.debug!r}, hmac_digest={self.hmac_digest!r})")


def _sign(key: bytes, digest: str, data: bytes) -> bytes:
    return hmac.new(key, data, digest).digest()


class UDPRadioSender(MonitoringRadioSender):
    def __init__(self, address: str, port: int, timeout: float = 10, *, hmac_key: bytes = b"",
                 hmac_digest: str = "sha512") -> None:
        self.address = address
        self.port = port
        self.hmac_key = hmac_key
        self.hmac_digest = hmac_digest
        self.sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)

    def send(self, message: object) -> None:
        try:
            data = pickle.dumps(message)
        except Exception:
            logger.exception("UDPRadio: a monitoring message could not be pickled; dropped")
            return
        try:
            self.sock.sendto(_sign(self.hmac_key, self.hmac_digest, data) + data, (self.address, self.port))
        except OSError as e:       # too big for a datagram, network down, timeout
            logger.error("UDPRadio: could not send a monitoring message (%d bytes) to %s:%s: %s",
                         len(data), self.address, self.port, e)


class UDPRadioReceiver(MonitoringRadioReceiver):
    """A thread that puts each correctly signed datagram's message on ``queue``."""

    def __init__(self, queue, *, port: Optional[int], hmac_key: bytes, hmac_digest: str,
                 atexit_timeout: float = 3, bind: str = "0.0.0.0"):
        self.queue = queue
        self.hmac_key = hmac_key
        self.hmac_digest = hmac_digest
        self.atexit_timeout = atexit_timeout
        self._sig_len = hashlib.new(hmac_digest).digest_size
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((bind, port or 0))
        except OSError as e:
            self.sock.close()
            raise OSError(e.errno, f"UDPRadio: cannot listen on UDP port {port}: {e.strerror} "
                                   "(give another port, or None for a free one)") from None
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(_POLL_S)
        self.received = 0
        self.rejected = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parsl-udp-radio", daemon=True)
        self._thread.start()

    def _take(self, data: bytes) -> None:
        sig, body = data[:self._sig_len], data[self._sig_len:]
        if not hmac.compare_digest(sig, _sign(self.hmac_key, self.hmac_digest, body)):
            self.rejected += 1
            logger.warning("UDPRadio: dropped a datagram with a wrong signature (%d so far)", self.rejected)
            return
        try:
            message = pickle.loads(body)
        except Exception:
            logger.exception("UDPRadio: a signed datagram did not unpickle; dropped")
            return
        self.received += 1
        self.queue.put(message)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self._take(data)

    def shutdown(self) -> None:
        """Stop, after taking what the socket already holds (the thread's last turn)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(self.atexit_timeout + _POLL_S)
        self.sock.setblocking(False)
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                break
            self._take(data)
        self.sock.close()
