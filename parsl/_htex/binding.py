"""The interchange's listening endpoint: a ZMQ ROUTER bound for the managers.

Separate from the interchange's loop because binding is all policy about addresses
(IPv4/IPv6, a fixed port or a range) and security (CurveZMQ with its ZAP handler),
none of which the loop needs to know.
"""
from __future__ import annotations

from typing import Optional, Tuple

import zmq

from parsl._htex import curve


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


def bind(address: Optional[str], port: Optional[int], port_range: Tuple[int, int],
         cert_dir: Optional[str]) -> RouterEndpoint:
    """Bind a ROUTER on ``address`` (None: every interface, IPv6 too when the host has it)
    at ``port``, or at a free port in ``port_range``.  RuntimeError says what to change."""
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
    addr = address or "*"
    if ":" in addr or addr == "*":
        sock.setsockopt(zmq.IPV6, 1)   # "*" then accepts IPv4 and IPv6
    host = f"[{addr}]" if ":" in addr else addr

    def bind_once() -> int:
        if port:
            sock.bind(f"tcp://{host}:{port}")
            return port
        return sock.bind_to_random_port(f"tcp://{host}", port_range[0], port_range[1], max_tries=100)

    try:
        try:
            endpoint.port = bind_once()
        except zmq.ZMQError:
            if addr != "*":
                raise
            sock.setsockopt(zmq.IPV6, 0)   # a host without IPv6: IPv4 only
            endpoint.port = bind_once()
    except zmq.ZMQBaseError as e:   # ZMQBindError (range exhausted) is not a ZMQError
        endpoint.close(linger_ms=0)
        raise RuntimeError(f"the interchange could not bind {addr} (port {port or port_range}): "
                           f"{e}. Pick another worker_port / worker_port_range or address.") from e
    return endpoint
