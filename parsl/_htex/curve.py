"""CurveZMQ for the interchange <-> manager link: per-run certificates and socket setup.

The certificates live in ``<run_dir>/<label>/certificates`` (mode 0700): the server key
pair (interchange) and one client key pair shared by the managers.  Managers find them
through a shared filesystem (``--cert_dir``), as in Parsl.  The interchange also runs a
ZAP authenticator so that only holders of the client key can connect.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

import zmq
import zmq.auth

if TYPE_CHECKING:
    from zmq.auth.thread import ThreadAuthenticator


def create_certificates(cert_dir: str) -> str:
    os.makedirs(cert_dir, mode=0o700, exist_ok=True)
    os.chmod(cert_dir, 0o700)
    if not os.path.exists(os.path.join(cert_dir, "server.key_secret")):
        zmq.auth.create_certificates(cert_dir, "server")
        zmq.auth.create_certificates(cert_dir, "client")
    return cert_dir


def _load(cert_dir: str, name: str):
    path = os.path.join(cert_dir, f"{name}.key_secret")
    try:
        return zmq.auth.load_certificate(path)
    except (OSError, ValueError) as e:
        raise RuntimeError(f"cannot read CurveZMQ certificate {path}: {e}. The manager needs the "
                           "run directory on a shared filesystem, or set encrypted=False") from e


def configure_server(sock: zmq.Socket, cert_dir: str) -> None:
    public, secret = _load(cert_dir, "server")
    sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
    sock.setsockopt(zmq.CURVE_SERVER, True)


def configure_client(sock: zmq.Socket, cert_dir: str) -> None:
    public, secret = _load(cert_dir, "client")
    server_public, _ = zmq.auth.load_certificate(os.path.join(cert_dir, "server.key"))
    sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
    sock.setsockopt(zmq.CURVE_SERVERKEY, server_public)


class Authenticator:
    """Owns the ZAP handler thread that checks client keys.  ``close()`` is idempotent."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], cert_dir: str):
        from zmq.auth.thread import ThreadAuthenticator  # deferred: only encrypted executors run a ZAP thread
        auth = ThreadAuthenticator(ctx)
        self._auth: Optional[ThreadAuthenticator] = auth    # None once closed
        auth.start()
        auth.configure_curve(domain="*", location=cert_dir)

    def close(self) -> None:
        auth, self._auth = self._auth, None
        if auth is not None:
            auth.stop()
