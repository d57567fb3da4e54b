"""CurveZMQ for the interchange <-> manager link: per-run certificates and socket setup.

The certificates live in ``<run_dir>/<label>/certificates`` (mode 0700, secret keys 0600,
both checked whenever a key is loaded): the server key
pair (interchange) and one client key pair shared by the managers.  Managers find them
through a shared filesystem (``--cert_dir``), as in Parsl.  The interchange also runs a
ZAP authenticator so that only holders of the client key can connect.
"""
from __future__ import annotations

import logging
import os
import stat
from typing import TYPE_CHECKING, Optional

import zmq
import zmq.auth

if TYPE_CHECKING:
    from zmq.auth.thread import ThreadAuthenticator

logger = logging.getLogger(__name__)


def create_certificates(cert_dir: str) -> str:
    """The run's key pairs in ``cert_dir`` (made 0700; secret keys 0600), created once."""
    old_umask = os.umask(0o077)     # no moment in which a secret key is readable by others
    try:
        os.makedirs(cert_dir, mode=0o700, exist_ok=True)
        os.chmod(cert_dir, 0o700)
        if not os.path.exists(os.path.join(cert_dir, "server.key_secret")):
            zmq.auth.create_certificates(cert_dir, "server")
            zmq.auth.create_certificates(cert_dir, "client")
    finally:
        os.umask(old_umask)
    for name in ("server", "client"):
        _check_private(os.path.join(cert_dir, f"{name}.key_secret"), 0o600)
    return cert_dir


def _check_private(path: str, mode: int) -> None:
    """Make sure only the owner can read ``path``: tighten it when it is ours, else refuse.

    RuntimeError names the path, its mode and the fix.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return      # _load reports a missing key with its own advice
    loose = stat.S_IMODE(st.st_mode) & 0o077
    if not loose:
        return
    if st.st_uid == os.getuid():
        os.chmod(path, mode)
        logger.warning("%s was readable by others (mode %o): made it %o", path, stat.S_IMODE(st.st_mode), mode)
        return
    raise RuntimeError(f"CurveZMQ keys at {path} are readable by others (mode {stat.S_IMODE(st.st_mode):o}) "
                       f"and belong to another user: run `chmod {mode:o} {path}` as its owner, or start the "
                       "executor again to make new keys")


def _load(cert_dir: str, name: str):
    path = os.path.join(cert_dir, f"{name}.key_secret")
    _check_private(cert_dir, 0o700)
    _check_private(path, 0o600)
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
