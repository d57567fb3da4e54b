"""A radio over UDP: one datagram per message, signed with HMAC so the receiver only
unpickles what a holder of this run's key sent (an open UDP port that unpickled
anything would run any code a stranger sends).  The key is made with the config and
travels with its pickled copies to the senders.

UDP can drop datagrams under load and a message must fit in one (about 64 KB); for
HTEX, Chervil's workers report over their result channel instead, which loses nothing.
The receiving end is its own process (``udp_router``); ``resource_msgs`` must be a
multiprocessing queue (``parsl.multiprocessing.SpawnQueue``), as the hub's is.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import os
import pickle
import secrets
import socket
import time
from typing import Optional

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig, need_queue
from parsl.monitoring.radios.udp_router import HEADER, UDPRadioReceiver, sign, start_udp_receiver

logger = logging.getLogger(__name__)

__all__ = ["UDPRadio", "UDPRadioSender", "UDPRadioReceiver"]


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

    def create_receiver(self, run_dir: Optional[str] = None, resource_msgs=None, *,
                        ip: Optional[str] = None) -> MonitoringRadioReceiver:
        need_queue(self, resource_msgs)
        # Listen only where senders are told to send, when that is an address of this host
        # (a stranger elsewhere on the network then cannot reach the port at all).
        bind = _ip_literal(self.address) or "0.0.0.0"
        receiver = start_udp_receiver(monitoring_messages=resource_msgs, port=self.port, logdir=run_dir,
                                      debug=self.debug, atexit_timeout=self.atexit_timeout,
                                      hmac_key=self.hmac_key, hmac_digest=self.hmac_digest, bind=bind)
        self.port = receiver.port
        if self.address is None:
            self.address = ip or "127.0.0.1"
        return receiver

    def __repr__(self) -> str:
        return (f"UDPRadio(port={self.port!r}, atexit_timeout={self.atexit_timeout!r}, address={self.address!r}, "
                f"debug={self.debug!r}, hmac_digest={self.hmac_digest!r})")


def _ip_literal(address: Optional[str]) -> Optional[str]:
    """``address`` if it is an IPv4 literal (the receiver binds IPv4 only), else None."""
    try:
        socket.inet_aton(address or "")
    except OSError:
        return None
    return address if address and address.count(".") == 3 else None


class UDPRadioSender(MonitoringRadioSender):
    def __init__(self, address: str, port: int, timeout: float = 10, *, hmac_key: bytes = b"",
                 hmac_digest: str = "sha512") -> None:
        self.address = address
        self.port = port
        self.hmac_key = hmac_key
        self.hmac_digest = hmac_digest
        self.sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self._new_identity()

    def _new_identity(self) -> None:
        # The receiver refuses a (sender id, number) it saw before: each process that sends
        # (a forked copy too) numbers its datagrams under its own random id.
        self._pid = os.getpid()
        self._id = secrets.token_bytes(8)
        self._seq = itertools.count(1)

    def send(self, message: object) -> None:
        try:
            data = pickle.dumps(message)
        except Exception:
            logger.exception("UDPRadio: a monitoring message could not be pickled; dropped")
            return
        if os.getpid() != self._pid:
            self._new_identity()
        body = HEADER.pack(self._id, next(self._seq), time.time()) + data
        try:
            self.sock.sendto(sign(self.hmac_key, self.hmac_digest, body) + body, (self.address, self.port))
        except OSError as e:       # too big for a datagram, network down, timeout
            logger.error("UDPRadio: could not send a monitoring message (%d bytes) to %s:%s: %s",
                         len(data), self.address, self.port, e)
