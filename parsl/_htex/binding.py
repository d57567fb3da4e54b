"""The interchange's listening endpoint: a ZMQ ROUTER bound for the managers.

Separate from the interchange's loop because binding is all policy about addresses
(IPv4/IPv6, a fixed port or a range) and security (CurveZMQ with its ZAP handler),
none of which the loop needs to know.
"""
from __future__ import annotations

import errno
import logging
import random
from typing import List, Optional, Sequence, Tuple

import zmq

from parsl._htex import curve

logger = logging.getLogger("parsl._htex.interchange")


class RouterEndpoint:
    """Owns the ZMQ context, the bound ROUTER socket and (encrypted) the authenticator.

    The socket is used by the interchange thread only; ``close()`` is called once, by that
    thread as it exits (or by ``bind`` when binding fails).
    """

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], sock: zmq.Socket[bytes], port: int,
                 auth: Optional[curve.Authenticator]):
        # each is None once close() has closed it
        self.ctx: Optional[zmq.Context[zmq.Socket[bytes]]] = ctx
        self.sock: Optional[zmq.Socket[bytes]] = sock
        self.port = port
        #: The addresses it listens on (bind() skips those this host does not have).
        self.bound: List[str] = []
        self._auth = auth

    def close(self, linger_ms: int = 200) -> None:
        """Close the socket (``linger_ms`` lets queued STOP messages out), then the context."""
        if self.sock is not None:
            self.sock.close(linger=linger_ms)
            self.sock = None
        if self._auth is not None:
            self._auth.close()
            self._auth = None
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None


def _host(addr: str) -> str:
    return f"[{addr}]" if ":" in addr else addr


def bind(addresses: Sequence[str], port: Optional[int], port_range: Tuple[int, int],
         cert_dir: Optional[str]) -> RouterEndpoint:
    """Bind a ROUTER on every one of ``addresses`` at one port: ``port``, or a free port in
    ``port_range`` (``["*"]``: every interface, IPv6 too when the host has it).

    An address this host does not have is skipped with a warning (``bound`` lists the rest);
    RuntimeError says what to change when none can be bound.
    """
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    auth = None
    if cert_dir:
        auth = curve.Authenticator(ctx, cert_dir)
        curve.configure_server(sock, cert_dir)
    endpoint = RouterEndpoint(ctx, sock, 0, auth)
    addrs = list(dict.fromkeys(addresses)) or ["*"]
    if any(":" in a or a == "*" for a in addrs):
        sock.setsockopt(zmq.IPV6, 1)   # "*" then accepts IPv4 and IPv6
    try:
        endpoint.port, endpoint.bound = _bind_all(sock, addrs, port, port_range)
    except zmq.ZMQBaseError as e:   # ZMQBindError (range exhausted) is not a ZMQError
        endpoint.close(linger_ms=0)
        raise RuntimeError(f"the interchange could not bind {', '.join(addrs)} (port {port or port_range}): "
                           f"{e}. Pick another worker_port / worker_port_range or address.") from e
    return endpoint


def _bind_all(sock: zmq.Socket[bytes], addrs: List[str], port: Optional[int],
              port_range: Tuple[int, int]) -> Tuple[int, List[str]]:
    """(port, addresses bound): the first address picks the port, the others follow it; a
    port taken on a later address starts over with another port (at most 100 tries)."""
    tries = 1 if port else 100
    last: Optional[zmq.ZMQError] = None
    for _ in range(tries):
        chosen = port or random.randrange(port_range[0], port_range[1])
        bound: List[str] = []
        try:
            for a in addrs:
                try:
                    sock.bind(f"tcp://{_host(a)}:{chosen}")
                except zmq.ZMQError as e:
                    if e.errno in (errno.EADDRNOTAVAIL, errno.ENODEV, errno.EAFNOSUPPORT, errno.EINVAL) \
                            and len(addrs) > 1:
                        logger.warning("the interchange cannot listen on %s (%s): managers cannot use that "
                                       "address", a, e)
                        continue
                    if a == "*" and sock.getsockopt(zmq.IPV6):
                        sock.setsockopt(zmq.IPV6, 0)    # a host without IPv6: IPv4 only
                        sock.bind(f"tcp://*:{chosen}")
                    else:
                        raise
                bound.append(a)
            if bound:
                return chosen, bound
            raise zmq.ZMQError(errno.EADDRNOTAVAIL, "none of the addresses is on this host")
        except zmq.ZMQError as e:
            last = e
            for a in bound:
                try:
                    sock.unbind(f"tcp://{_host(a)}:{chosen}")
                except zmq.ZMQError:
                    pass
            if e.errno != errno.EADDRINUSE:
                break
    assert last is not None
    raise zmq.ZMQBindError(f"no free port: {last}") if last.errno == errno.EADDRINUSE and not port else last
